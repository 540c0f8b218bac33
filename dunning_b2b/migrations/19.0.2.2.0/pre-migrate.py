"""19.0.2.2.0: remember which shipped email templates no one changed since they were loaded
(written when created, never since): the post-migration script loads their new texts (how
to pay, the company's address, a dated deadline). Templates a user changed keep the user's
version.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """CREATE TABLE IF NOT EXISTS dunning_b2b_refresh_templates AS
           SELECT d.name FROM ir_model_data d
             JOIN mail_template t ON t.id = d.res_id
            WHERE d.module = 'dunning_b2b' AND d.model = 'mail.template'
              AND t.write_date = t.create_date"""
    )
