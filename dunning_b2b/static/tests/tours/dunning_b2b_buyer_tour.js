import { registry } from "@web/core/registry";

const { DateTime } = luxon;

// The buyer's journey from a reminder's link (data made by the Python test,
// test_portal_tour.py): two open invoices; promise to pay both next week, dispute the
// first one, then pay the second one online with the demo provider.
registry.category("web_tour.tours").add("dunning_b2b_buyer_journey", {
    steps: () => [
        {
            content: "The page lists the customer's open items",
            trigger: ".o_dunning_page .o_dunning_items tr:contains(TOUR-A)",
        },
        {
            content: "Promise a payment date",
            trigger: "input#promise_date",
            run: function () {
                // A date input: its value is the ISO date (the browser shows it localised).
                this.anchor.value = DateTime.now().plus({ days: 7 }).toISODate();
            },
        },
        {
            content: "Record the promise",
            trigger: "button.o_dunning_promise",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The promise is recorded and shown",
            trigger: ".o_dunning_done:contains(your promise is recorded)",
        },
        {
            content: "The rows show the promise",
            trigger: ".o_dunning_items .badge:contains(Promised for)",
        },
        {
            content: "Only the first invoice is disputed: unselect the second",
            trigger: ".o_dunning_items tr:contains(TOUR-B) input[name=line]",
            run: "click",
        },
        {
            content: "What is wrong",
            trigger: "select#reason",
            run: "select pricing",
        },
        {
            content: "Say why",
            trigger: "textarea#comment",
            run: "edit The price list says 900",
        },
        {
            content: "Report the problem",
            trigger: "button.o_dunning_dispute",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The dispute is recorded",
            trigger: ".o_dunning_done:contains(we have your message)",
        },
        {
            content: "The disputed invoice is under review",
            trigger: ".o_dunning_items tr:contains(TOUR-A) .badge:contains(Under review)",
        },
        {
            content: "Pay the selected invoice (the second one; the disputed one is not selected)",
            trigger: "button.o_dunning_pay",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The payment page asks for the second invoice only",
            trigger: ".o_dunning_pay_page:contains(TOUR-B):not(:contains(TOUR-A))",
        },
        {
            content: "Card details for the demo provider",
            trigger: "input#customer_input",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name=o_payment_submit_button]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the page, thanked for the payment",
            trigger: ".o_dunning_done:contains(Thank you for your payment)",
        },
        {
            content: "The paid invoice is no longer listed",
            trigger: ".o_dunning_items:not(:contains(TOUR-B))",
        },
    ],
});
