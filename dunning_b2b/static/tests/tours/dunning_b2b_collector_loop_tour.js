import { registry } from "@web/core/registry";

const { DateTime } = luxon;

// The collector's daily loop on My Worklist (data made by the Python test, test_ui.py):
// open a customer's row, log a call with a promise, see the promise on the row, open a
// dispute, see it on the row, recompute the list.
function logCall(outcome) {
    return [
        {
            content: "Log a call from the customer's row",
            trigger: ".o_form_view .o_form_statusbar button[name=action_log_call]",
            run: "click",
        },
        {
            content: `The call's outcome: ${outcome}`,
            trigger: `.modal .o_field_widget[name=outcome] input[data-value=${outcome}]`,
            run: "click",
        },
        {
            content: "The call was about the overdue invoice",
            trigger: ".modal .o_field_widget[name=move_ids] input",
            run: "edit INV",
        },
        {
            content: "Pick the invoice",
            trigger: ".o-autocomplete--dropdown-item a:contains(INV/)",
            run: "click",
        },
        {
            content: "Log the call",
            trigger: ".modal .modal-footer button[name=action_confirm]",
            run: "click",
        },
    ];
}

function backToRow() {
    return [
        {
            content: "Saved",
            trigger: ".o_form_view .oe_title .o_field_widget[name=name]:not(:empty)",
        },
        {
            content: "Back to the customer's row",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Acme Trading)",
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("dunning_b2b_collector_loop", {
    steps: () => [
        {
            content: "My Worklist lists everything the collector chases",
            trigger: ".o_searchview_facet:contains(Action Today) .o_facet_remove",
            run: "click",
        },
        {
            content: "Open the customer's row",
            trigger: ".o_list_view .o_data_row td[name=partner_id]:contains(Acme Trading)",
            run: "click",
        },
        {
            content: "No promise on the row yet",
            trigger: ".o_form_view .o_field_widget[name=promise_open] input:not(:checked)",
        },
        ...logCall("promised"),
        {
            content: "The promise form comes prefilled with the invoice and its amount",
            trigger: ".o_form_view .o_field_widget[name=move_ids] .o_tag:contains(INV/)",
        },
        {
            content: "Paid in a week, the customer says",
            trigger: ".o_form_view .o_field_widget[name=promise_date] input",
            run: `edit ${DateTime.now().plus({ days: 7 }).toFormat("MM/dd/yyyy")}`,
        },
        {
            content: "Save the promise",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        ...backToRow(),
        {
            content: "The row shows the promise at once",
            trigger: ".o_form_view .o_field_widget[name=promise_open] input:checked",
        },
        {
            content: "And the call as the last contact",
            trigger: ".o_form_view .o_field_widget[name=last_contact_type]:contains(Call)",
        },
        ...logCall("disputes"),
        {
            content: "The dispute's reason",
            trigger: ".o_form_view .o_field_widget[name=reason] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "Pricing",
            trigger: ".o_select_menu_item:contains(Pricing)",
            run: "click",
        },
        {
            content: "Its owner and deadline follow from the reason",
            trigger: ".o_form_view .o_field_widget[name=owner_id] .o_avatar",
        },
        {
            content: "Save the dispute",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        ...backToRow(),
        {
            content: "The row shows the dispute at once",
            trigger: ".o_form_view .o_field_widget[name=dispute_open] input:checked",
        },
        {
            content: "Back to the list",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(My Worklist)",
            run: "click",
        },
        {
            content: "Recompute the worklist",
            trigger: ".o_control_panel button[name=action_refresh]",
            run: "click",
        },
        {
            content: "Recomputed",
            trigger: ".o_notification:contains(Worklist recomputed)",
        },
    ],
});

// The collector logs a note on a customer they may not edit (no write right on contacts).
registry.category("web_tour.tours").add("dunning_b2b_collector_note", {
    steps: () => [
        {
            content: "The customer's form, read-only for the collector",
            trigger: ".o_form_view .o_field_widget[name=name]:contains(Acme Trading)",
        },
        {
            content: "Log a note in the chatter",
            trigger: ".o-mail-Chatter-logNote:enabled",
            run: "click",
        },
        {
            content: "Write it",
            trigger: ".o-mail-Composer-input",
            run: "edit Called Dana: pays next week",
        },
        {
            content: "Post it",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The note is on the customer",
            trigger: ".o-mail-Message:contains(Called Dana: pays next week)",
        },
    ],
});
