// revbook dashboard and report: render the Vega-Lite specs of the page, make filter forms apply on change.
(function () {
  "use strict";

  function renderCharts() {
    if (typeof vegaEmbed === "undefined") { return; }
    document.querySelectorAll("div.vega[data-spec]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-spec"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      vegaEmbed(el, spec, {
        actions: false,
        renderer: "svg",
        tooltip: { theme: "light" },
        loader: { target: "_self" }
      }).then(function () {
        el.setAttribute("data-rendered", "true");
      }).catch(function (err) {
        el.setAttribute("data-error", String(err));
        el.textContent = "This chart could not be drawn: " + err;
      });
    });
  }

  function autoSubmit() {
    document.querySelectorAll("form.filters").forEach(function (form) {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.classList.add("js-hidden"); }
      form.addEventListener("change", function (event) {
        var target = event.target;
        var resets = target.getAttribute && target.getAttribute("data-resets");
        if (resets) {
          var dependent = form.querySelector("[name='" + resets + "']");
          if (dependent) { dependent.disabled = true; }
        }
        submit(form);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        submit(form);
      });
    });
  }

  // keep shared URLs short: leave empty fields out of the query
  function submit(form) {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && !el.disabled && el.value !== "") { params.append(el.name, el.value); }
    });
    var query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  }

  function start() {
    renderCharts();
    autoSubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
