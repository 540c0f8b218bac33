{
    "name": "B2B Dunning - Sales",
    "summary": "Credit hold on quotations and sales orders: banner, confirmation block, approvals",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/dunning-b2b/dunning_b2b",
    "author": "dunning_b2b developers",
    "maintainers": ["dunning-b2b"],
    "license": "LGPL-3",
    "depends": ["dunning_b2b", "sale"],
    "data": [
        "views/sale_order_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": ["demo/sale_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "dunning_b2b_sale/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "auto_install": True,
    "application": False,
}
