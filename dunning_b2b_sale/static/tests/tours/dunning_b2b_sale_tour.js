import { registry } from "@web/core/registry";

// A salesperson opens the quotation of a customer on credit hold (data made by the Python test).
registry.category("web_tour.tours").add("dunning_b2b_sale_held_quotation", {
    steps: () => [
        {
            content: "The credit hold banner shows on the quotation",
            trigger: ".o_form_view div.alert-danger[role=alert]:contains(Credit hold since)",
        },
        {
            content: "It names the reason and the collector",
            trigger: ".o_form_view div.alert-danger:contains(Three invoices 60 days late):contains(Contact Colette Collector)",
        },
        {
            content: "Try to confirm the quotation",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Confirmation is refused with the reason",
            trigger: ".modal .modal-body:contains(cannot be confirmed: Acme Trading is on credit hold)",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The quotation is still a quotation and offers to request approval",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_dunning_request_approval]",
        },
    ],
});
