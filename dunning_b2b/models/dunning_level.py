from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import validate_offsets


class DunningLevel(models.Model):
    _name = "dunning.level"
    _description = "Dunning Stage"
    _order = "policy_id, sequence, day_offset, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "dunning.policy",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Stage", required=True, translate=True)
    day_offset = fields.Integer(
        string="Starts at (days)",
        required=True,
        help="Days after the due date at which an invoice enters this stage. "
        "A negative number means before the due date.",
    )
    automatic = fields.Boolean(
        default=True,
        help="Automatic stages send their email during the daily run. Other stages "
        "prepare the message and give the collector a task to review and send it.",
    )
    send_email = fields.Boolean(default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "dunning.message")],
        ondelete="restrict",
    )
    send_letter = fields.Boolean(help="Prepare a printed letter for this stage.")
    letter_type = fields.Selection(
        [
            ("formal_notice", "Formal notice"),
            ("demand", "Demand letter"),
            ("statement", "Customer statement"),
        ],
        default="formal_notice",
        help="The letter of this stage: attached as PDF to its email and printed in batch "
        "from the worklist for the post.",
    )
    attach_letter = fields.Boolean(
        string="Attach Letter to Email",
        help="Attach the stage's letter as a PDF to its email. Each letter is rendered by "
        "wkhtmltopdf (about a second): on stages sent automatically to many customers, "
        "printing the letters in batch for the post is much faster.",
    )
    send_to_all_contacts = fields.Boolean(
        string="Email All Billing Contacts",
        help="Send this stage's email to the customer and every contact of it with an email "
        "address, not only to the invoice addresses.",
    )
    activity_to_manager = fields.Boolean(
        string="Task for the Collections Manager",
        help="This stage's tasks go to the company's collections manager (e.g. a senior call) "
        "instead of the customer's collector. A person in Task For still takes precedence.",
    )
    create_activity = fields.Boolean(
        string="Create Task", help="Give a person a task when an invoice enters this stage."
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Task Type",
        default=lambda self: self.env.ref(
            "dunning_b2b.mail_activity_type_dunning_todo", raise_if_not_found=False
        ),
    )
    activity_user_id = fields.Many2one(
        "res.users",
        string="Task For",
        help="Who receives this stage's tasks. Leave empty for the customer's collector.",
    )
    activity_delay = fields.Integer(
        string="Task Due After (days)", default=0, help="Days after the stage is reached."
    )
    deadline_days = fields.Integer(
        string="Payment Deadline (days)",
        help="Days between the stage's email and the payment date it states. 0: the "
        "company's letter deadline (Settings).",
    )
    call_delay = fields.Integer(
        string="Phone Task After (days)",
        default=0,
        help="Days after this stage's email with neither a reply nor a payment after which "
        "the collector gets a task to phone the buyer. 0: no phone task.",
    )
    credit_hold = fields.Selection(
        [("none", "No hold"), ("propose", "Propose a hold"), ("apply", "Apply a hold")],
        default="none",
        required=True,
    )
    notify_salesperson = fields.Boolean()
    propose_resolution = fields.Boolean(
        string="Propose a Final Resolution",
        help="Lines reaching this stage are proposed to a dunning manager as a final "
        "resolution case (agency, legal action, settlement or write-off) to decide. The "
        "case's task for the company's collections manager replaces the stage's own task; "
        "only lines a manager already declined get the stage's task.",
    )
    description = fields.Text(
        string="Guidance", translate=True, help="What the collector should do at this stage."
    )
    color = fields.Integer()

    @api.constrains("day_offset", "sequence", "policy_id", "active")
    def _check_day_offset(self):
        for policy in self.policy_id:
            levels = policy.level_ids.sorted(lambda lvl: (lvl.sequence, lvl.id))
            offsets = [level.day_offset for level in levels]
            if len(set(offsets)) != len(offsets):
                duplicate = next(o for o in offsets if offsets.count(o) > 1)
                raise ValidationError(
                    self.env._(
                        "Starts at (days): two stages of policy %(policy)s start on day "
                        "%(day)s. Give each stage its own day.",
                        policy=policy.display_name,
                        day=duplicate,
                    )
                )
            index = validate_offsets(offsets)
            if index is not None:
                raise ValidationError(
                    self.env._(
                        "Starts at (days): in policy %(policy)s, stage %(stage)s starts on day "
                        "%(day)s, not after the stage before it (%(previous)s, day "
                        "%(previous_day)s). Stages must start later as the ladder goes on.",
                        policy=policy.display_name,
                        stage=levels[index].name,
                        day=offsets[index],
                        previous=levels[index - 1].name,
                        previous_day=offsets[index - 1],
                    )
                )

    @api.constrains("send_email", "mail_template_id")
    def _check_mail_template_id(self):
        for level in self:
            if level.send_email and not level.mail_template_id:
                raise ValidationError(
                    self.env._(
                        "Email Template: stage %(stage)s sends an email but has no template. "
                        "Choose a template or untick Send Email.",
                        stage=level.name,
                    )
                )

    @api.constrains("call_delay")
    def _check_call_delay(self):
        for level in self:
            if level.call_delay < 0:
                raise ValidationError(
                    self.env._(
                        "Phone Task After (days): stage %(stage)s has %(days)s days. Enter 0 "
                        "for no phone task, or the number of days to wait after the email.",
                        stage=level.name,
                        days=level.call_delay,
                    )
                )

    @api.depends("policy_id.name", "name")
    def _compute_display_name(self):
        for level in self:
            level.display_name = level.name or ""
