"""19.0.2.2.0: tasks on customers say which company's collections they are for; the shipped
email templates and stages no one changed take the new texts (see pre-migrate).

Tasks made before have no company and would show in every company's worklist. A task of the
collections' types on a customer is given the company when it can be told for sure: the one
company its assignee works in, else the one company where the customer has dunning lines.
The others stay without company (shown to every company, as before) for a user to close.
"""

from io import BytesIO

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL, file_path
from odoo.tools.convert import convert_xml_import


def migrate(cr, version):
    if not version:
        return
    _refresh_templates(cr)
    # The shipped stages ask for a date: 10 days after a formal notice, 7 after escalation.
    for name, days in (("dunning_level_formal_notice", 10), ("dunning_level_escalation", 7)):
        cr.execute(
            """UPDATE dunning_level l SET deadline_days = %s
                 FROM ir_model_data d
                WHERE d.module = 'dunning_b2b' AND d.name = %s AND l.id = d.res_id
                  AND COALESCE(l.deadline_days, 0) = 0""",
            (days, name),
        )
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


def _refresh_templates(cr):
    """Load again, from the data file, the shipped templates the pre-migration found
    unchanged (the file's ``noupdate`` would skip them), and keep them ``noupdate``."""
    cr.execute("SELECT name FROM dunning_b2b_refresh_templates")
    names = {name for (name,) in cr.fetchall()}
    cr.execute("DROP TABLE dunning_b2b_refresh_templates")
    if not names:
        return
    tree = etree.parse(file_path("dunning_b2b/data/mail_template_data.xml"))
    root = etree.Element("odoo")
    data = etree.SubElement(root, "data")
    for record in tree.iterfind(".//record"):
        if record.get("id") in names:
            data.append(record)
    cr.execute(
        """UPDATE ir_model_data SET noupdate = FALSE
            WHERE module = 'dunning_b2b' AND model = 'mail.template' AND name = ANY(%s)""",
        (sorted(names),),
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    xml = BytesIO(etree.tostring(root))
    xml.name = "data/mail_template_data.xml"  # the loader names what it loads
    convert_xml_import(env, "dunning_b2b", xml, mode="update")
    cr.execute(
        """UPDATE ir_model_data SET noupdate = TRUE
            WHERE module = 'dunning_b2b' AND model = 'mail.template' AND name = ANY(%s)""",
        (sorted(names),),
    )
