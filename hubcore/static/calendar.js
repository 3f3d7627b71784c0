// The calendar's booking dialog. htmx loads a booking form into #cal-dialog-body;
// this opens the <dialog> around it (Esc and "Close" shut it; the browser returns
// focus to the slot or booking that opened it). No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  function dialog() {
    return document.getElementById("cal-dialog");
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var dlg = dialog();
    if (!dlg || event.detail.target.id !== "cal-dialog-body") {
      return;
    }
    if (!dlg.open) {
      dlg.showModal();
    }
    // After a refusal, start at what needs attention; else at the first field.
    var first = dlg.querySelector(".cal-refusal, [aria-invalid=true], .form-error") ||
      dlg.querySelector("input:not([type=hidden]), select, textarea");
    if (first) {
      if (!first.matches("input, select, textarea")) {
        first.setAttribute("tabindex", "-1");
      }
      first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var dlg = dialog();
    if (closer && dlg && dlg.open) {
      dlg.close();
    }
  });

  document.addEventListener("close", function (event) {
    if (event.target.id === "cal-dialog") {
      document.getElementById("cal-dialog-body").innerHTML = "";
    }
  }, true);

  // Filters and the site picker apply as soon as they change (their buttons stay for
  // keyboards and browsers without JavaScript).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.type !== "date") {
      form.requestSubmit();
    }
  });
})();
