"""19.0.2.1.0: tasks on customers say which company's collections they are for.

Tasks made before have no company and would show in every company's worklist. A task of the
collections' types on a customer is given the company when it can be told for sure: the one
company its assignee works in, else the one company where the customer has dunning lines.
The others stay without company (shown to every company, as before) for a user to close.
"""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    dunning_types = SQL(
        """SELECT res_id FROM ir_model_data
            WHERE module = 'dunning_b2b' AND model = 'mail.activity.type'"""
    )
    cr.execute(
        SQL(
            """UPDATE mail_activity a
                  SET dunning_company_id = sole.company_id
                 FROM (SELECT user_id, min(cid) AS company_id
                         FROM res_company_users_rel
                        GROUP BY user_id
                       HAVING count(*) = 1) sole
                WHERE sole.user_id = a.user_id
                  AND a.res_model = 'res.partner'
                  AND a.dunning_company_id IS NULL
                  AND a.activity_type_id IN (%s)""",
            dunning_types,
        )
    )
    cr.execute(
        SQL(
            """UPDATE mail_activity a
                  SET dunning_company_id = sole.company_id
                 FROM (SELECT partner_id, min(company_id) AS company_id
                         FROM dunning_line
                        GROUP BY partner_id
                       HAVING count(DISTINCT company_id) = 1) sole
                WHERE sole.partner_id = a.res_id
                  AND a.res_model = 'res.partner'
                  AND a.dunning_company_id IS NULL
                  AND a.activity_type_id IN (%s)""",
            dunning_types,
        )
    )
