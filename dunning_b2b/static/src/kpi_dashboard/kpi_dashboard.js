import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { formatFloat, humanNumber } from "@web/core/utils/numbers";
import { useService } from "@web/core/utils/hooks";

const TRENDS = [
    { key: "cei", label: _t("CEI (%)"), target: 80 },
    { key: "dso", label: _t("DSO (days)"), second: "best_dso", secondLabel: _t("Best possible DSO") },
    { key: "add", label: _t("ADD (days)"), second: "weighted_dpd", secondLabel: _t("Avg days past due") },
    { key: "bad_debt", label: _t("Bad debt (%)") },
];

/**
 * Collections dashboard: reads what the daily run stored (dunning.kpi.get_dashboard_data)
 * and draws it; it computes nothing itself.
 */
export class DunningKpiDashboard extends Component {
    static template = "dunning_b2b.KpiDashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, refreshing: false });
        this.trends = TRENDS;
        this.canvases = {};
        for (const trend of TRENDS) {
            this.canvases[trend.key] = useRef(`chart_${trend.key}`);
        }
        this.stageCanvas = useRef("chart_stages");
        this.charts = [];
        onWillStart(async () => {
            await Promise.all([loadBundle("web.chartjs_lib"), this.load()]);
        });
        onMounted(() => this.renderCharts());
        onWillUnmount(() => this.destroyCharts());
    }

    async load() {
        this.state.data = await this.orm.call("dunning.kpi", "get_dashboard_data", []);
    }

    async refresh() {
        this.state.refreshing = true;
        try {
            await this.orm.call("dunning.kpi", "action_refresh", []);
            await this.load();
        } finally {
            this.state.refreshing = false;
        }
        this.renderCharts();
    }

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }

    renderCharts() {
        this.destroyCharts();
        const data = this.state.data;
        if (!data || data.empty) {
            return;
        }
        const labels = data.trend.labels;
        for (const trend of TRENDS) {
            const el = this.canvases[trend.key].el;
            if (!el) {
                continue;
            }
            const datasets = [
                {
                    label: trend.label,
                    data: data.trend.values.map((v) => (v ? v[trend.key] : null)),
                    borderColor: "#017e84",
                    backgroundColor: "rgba(1, 126, 132, 0.15)",
                    fill: true,
                    tension: 0.25,
                },
            ];
            if (trend.second) {
                datasets.push({
                    label: trend.secondLabel,
                    data: data.trend.values.map((v) => (v ? v[trend.second] : null)),
                    borderColor: "#8f8f8f",
                    borderDash: [4, 4],
                    fill: false,
                    tension: 0.25,
                });
            }
            if (trend.target) {
                datasets.push({
                    label: _t("Target"),
                    data: labels.map(() => trend.target),
                    borderColor: "#d9534f",
                    borderDash: [2, 2],
                    pointRadius: 0,
                    fill: false,
                });
            }
            this.charts.push(
                new Chart(el, {
                    type: "line",
                    data: { labels, datasets },
                    options: {
                        animation: false,
                        maintainAspectRatio: false,
                        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
                        scales: { y: { beginAtZero: true } },
                    },
                })
            );
        }
        if (this.stageCanvas.el && data.stages.length) {
            this.charts.push(
                new Chart(this.stageCanvas.el, {
                    type: "bar",
                    data: {
                        labels: data.stages.map((s) => s.name),
                        datasets: [
                            {
                                label: _t("Open amount"),
                                data: data.stages.map((s) => s.amount),
                                backgroundColor: ["#a3a3a3", "#74b9ba", "#f0ad4e", "#e67e22", "#d9534f", "#8e44ad"],
                            },
                        ],
                    },
                    options: {
                        animation: false,
                        maintainAspectRatio: false,
                        plugins: { legend: { display: false } },
                    },
                })
            );
        }
    }

    num(value, digits = 1) {
        return value === null || value === undefined ? "–" : formatFloat(value, { digits: [16, digits] });
    }

    money(value) {
        if (value === null || value === undefined) {
            return "–";
        }
        const currency = this.state.data.currency;
        const amount = humanNumber(value, { decimals: 1, minDigits: 1 });
        return currency.position === "before" ? `${currency.symbol} ${amount}` : `${amount} ${currency.symbol}`;
    }

    ceiClass(value) {
        if (value === null || value === undefined) {
            return "";
        }
        return value >= 80 ? "text-success" : "text-danger";
    }

    openCustomer(row) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "dunning.customer.kpi",
            res_id: row.id,
            views: [[false, "form"]],
        });
    }

    openAction(xmlId) {
        this.action.doAction(xmlId);
    }
}

registry.category("actions").add("dunning_b2b.kpi_dashboard", DunningKpiDashboard);
