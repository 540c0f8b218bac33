"""Helpers shared by the engine's models: settings, and formatting for the lists it writes
by the thousand."""

import ast

from odoo.exceptions import AccessError, ValidationError
from odoo.tools.misc import get_lang

from odoo.addons.base.models.res_lang import intersperse


def amount_formatter(env):
    """A function ``(amount, currency) -> str`` that formats like ``odoo.tools.format_amount``
    in ``env``'s language, with the language's settings read once.

    ``format_amount`` looks the language up and parses its grouping on every call, about a
    tenth of a millisecond: most of the time of a run that lists 100,000 invoices in tasks.
    """
    code = get_lang(env).code
    key = ("dunning_b2b.amount_formatter", code)
    if key in env.cr.cache:  # built once per cursor (a whole run) and language
        return env.cr.cache[key]
    data = env["res.lang"]._get_data(code=code)
    grouping = ast.literal_eval(data.grouping)
    separator = data.thousands_sep or ""
    point = data.decimal_point

    def format_amount(amount, currency):
        text = f"%.{currency.decimal_places}f" % currency.round(amount)
        whole, _dot, decimals = text.partition(".")
        whole = intersperse(whole, grouping, separator)[0]
        text = point.join([whole, decimals]) if decimals else whole
        text = text.replace(" ", "\N{NO-BREAK SPACE}").replace(
            "-", "-\N{ZERO WIDTH NO-BREAK SPACE}"
        )
        if currency.position == "before":
            return f"{currency.symbol or ''}\N{NO-BREAK SPACE}{text}"
        return f"{text}\N{NO-BREAK SPACE}{currency.symbol or ''}"

    env.cr.cache[key] = format_amount
    return format_amount


def positive_int_param(env, key, default):
    """The system parameter ``key`` as an integer of at least 1; ``default`` when it is unset
    or not a number."""
    # sudo: system parameters are for administrators; only this key is read
    value = env["ir.config_parameter"].sudo().get_param(key)
    try:
        return max(int(value), 1) if value else default
    except ValueError:
        return default


# Values memoized for one engine run, by run id (the cursor's cache is cleared when a run
# commits its batches). Emptied at the end of each run.
_RUN_MEMO = {}


def run_memo(env, key, compute):
    """``compute()``, once per engine run (context ``dunning_run_id``, set by
    ``dunning.engine._run``) for values that do not change during a run, such as a company's
    revenue of the last twelve months; outside a run, computed on each call."""
    run_id = env.context.get("dunning_run_id")
    if not run_id:
        return compute()
    memo = _RUN_MEMO.setdefault(run_id, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget_run_memo(run_id):
    _RUN_MEMO.pop(run_id, None)


def check_state_write(records, vals, guarded):
    """Refuse a plain write of a record's state or decision fields: they change through
    the record's buttons (which write as the system once they checked the user's right),
    never by ``write`` over RPC, an import or a server action, managers included. The
    superuser (the engine, the actions, data fixes) writes them; a value written unchanged
    passes.

    :param guarded: dict field name -> the sentence naming the button to use
    """
    if records.env.su:
        return
    for name, how in guarded.items():
        if name in vals and value_changes(records, name, vals[name]):
            _refuse(records, name, how)


def check_state_create(model, vals_list, guarded, initial):
    """Refuse new records created in another state than their first one, or with decision
    fields already filled (see :func:`check_state_write`).

    :param initial: dict field name -> the value a new record may have (its default)
    """
    if model.env.su:
        return
    context = model.env.context
    for vals in vals_list:
        for name, how in guarded.items():
            # A default given in the context fills what the values leave out.
            value = vals[name] if name in vals else context.get(f"default_{name}")
            if value and (name not in initial or value != initial[name]):
                _refuse(model, name, how)


def value_changes(records, name, value):
    """Whether writing ``value`` (as given to ``write``) in field ``name`` changes any of
    ``records``; an x2many command always does."""
    field = records._fields[name]
    if field.type in ("one2many", "many2many"):
        return True
    for record in records:
        new = field.convert_to_record(field.convert_to_cache(value, record), record)
        if new != record[name]:
            return True
    return False


def check_recorded_create(model, vals_list, expected):
    """Refuse new records that say another author or day than the current user and today:
    who recorded a record and when are filled in by the system, never given by a user over
    RPC or an import. A value equal to the one the system fills passes (the default given in
    the context too); the superuser (the engine, data fixes, the demo history) passes.

    :param expected: dict field name -> the value it must have (a record id, a date)
    """
    if model.env.su:
        return
    context = model.env.context
    for vals in vals_list:
        for name, value in expected.items():
            given = vals[name] if name in vals else context.get(f"default_{name}")
            field = model._fields[name]
            if given and field.convert_to_cache(given, model) != field.convert_to_cache(
                value, model
            ):
                _refuse_recorded(model, name)


def check_recorded_write(records, vals, names):
    """Refuse a write that changes who recorded ``records`` or when (see
    :func:`check_recorded_create`)."""
    if records.env.su:
        return
    for name in names:
        if name in vals and value_changes(records, name, vals[name]):
            _refuse_recorded(records, name)


def _refuse_recorded(records, name):
    label = records._fields[name]._description_string(records.env)
    raise AccessError(
        records.env._(
            "%(field)s of %(model)s is filled in by the system (who records it and the day "
            "it is recorded) and cannot be set or changed: leave it out.",
            field=label,
            model=records._description,
        )
    )


def valid_collectors(users, company):
    """The users of ``users`` who may work ``company``'s collections: internal (not portal
    or public), active, and allowed in ``company``."""
    # sudo: the users' type, state and companies, to tell who may work in the company
    valid = users.sudo().filtered(
        lambda user: not user.share and user.active and company in user.company_ids
    )
    return users.browse(valid.ids)


def check_collectors(users, company, label):
    """Refuse (ValidationError) as ``label`` (the field's name) the users of ``users`` who
    cannot work ``company``'s collections (see :func:`valid_collectors`)."""
    wrong = users - valid_collectors(users, company)
    if wrong:
        env = users.env
        raise ValidationError(
            env._(
                "%(field)s: %(users)s must be an internal user working in %(company)s (not a "
                "portal user, not archived, allowed in that company). Choose another user, or "
                "allow %(users)s in %(company)s under Settings > Users & Companies > Users.",
                field=label,
                # sudo: the names of the users just given, to say which is wrong
                users=", ".join(wrong.sudo().mapped("name")),
                company=company.name,
            )
        )


def _refuse(records, name, how):
    label = records._fields[name]._description_string(records.env)
    raise AccessError(
        records.env._(
            "%(field)s of %(model)s changes only through its buttons: %(how)s",
            field=label,
            model=records._description,
            how=how,
        )
    )


DUNNING_GROUPS = {
    "user": "dunning_b2b.group_dunning_user",
    "manager": "dunning_b2b.group_dunning_manager",
}


def check_dunning_rights(records, role="user", operation="read"):
    """Refuse, with an error naming the access needed, a user who is not a collections
    ``role`` ("user" or "manager") or who may not ``operation`` these ``records`` (access
    rights and record rules, so only in the user's companies). The superuser passes."""
    env = records.env
    if env.su:
        return
    if not env.user.has_group(DUNNING_GROUPS[role]):
        access = (
            env._("Collections / Manager") if role == "manager" else env._("Collections / User")
        )
        raise AccessError(
            env._("This needs %(access)s access. Ask a collections manager.", access=access)
        )
    records.check_access(operation)


def check_list_access(records, model):
    """Refuse to open the list of ``model`` about ``records`` to a user who may not read
    ``records`` or has no access to ``model`` at all."""
    records.check_access("read")
    records.env[model].check_access("read")


def check_internal_search(model, name):
    """Refuse a search on field ``name`` (a computed field with a ``search`` method and
    ``groups``) to a user who is not internal (portal, public). Odoo checks ``groups`` on
    stored fields in domains but not on fields searched through their method: without this,
    a portal user would learn the internal value by counting records. The superuser passes."""
    env = model.env
    if env.su or env.user._is_internal():
        return
    label = model._fields[name]._description_string(env)
    raise AccessError(
        env._(
            "%(field)s is for internal users: remove it from the search (filter or domain).",
            field=label,
        )
    )


def recorder_name(user):
    """Who recorded something, as the audit trail says it: the buyer acting on their page
    (the public user, or a portal user) is "the customer", not a user's name."""
    if user and user._is_internal():
        return user.name
    return user.env._("the customer on their page")
