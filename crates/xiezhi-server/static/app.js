// Console behaviour without inline script (the CSP forbids it): charts from data attributes.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    if (typeof echarts === "undefined") return;
    var data = JSON.parse(el.getAttribute("data-chart"));
    var sources = {};
    (data.sources || []).forEach(function (s) {
      var t = sources[s.source] = sources[s.source] || { accepted: 0, quarantined: 0 };
      t.accepted += s.accepted;
      t.quarantined += s.quarantined;
    });
    var names = Object.keys(sources);
    var outcomes = ["accepted", "quarantined"];
    var label = { accepted: "接收", quarantined: "隔离" };
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: outcomes.map(function (o) { return label[o]; }) },
      xAxis: { type: "category", data: names },
      yAxis: { type: "value" },
      series: outcomes.map(function (o) {
        return { name: label[o], type: "bar", stack: "n",
                 data: names.map(function (n) { return sources[n][o] || 0; }) };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
  // Plain bar charts: {"labels": [...], "counts": [...]}.
  document.querySelectorAll("[data-bars]").forEach(function (el) {
    if (typeof echarts === "undefined") return;
    var data = JSON.parse(el.getAttribute("data-bars") || "{}");
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { bottom: 90 },
      xAxis: { type: "category", data: data.labels || [], axisLabel: { rotate: 40 } },
      yAxis: { type: "value" },
      series: [{ name: "案件", type: "bar", data: data.counts || [] }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
