/* The portal's own script: small and framework-free (Bootstrap and htmx are vendored).
   Loaded from 'self' only; the Content-Security-Policy forbids inline scripts and
   on* handler attributes, so behaviour is attached here through data-* attributes. */
(function () {
  "use strict";

  /* Confirmation before an irreversible action:
       <form method="post" data-confirm="Withdraw this request?"> ... </form>
     A submit button may carry its own data-confirm, which wins over the form's.
     Listening in the capture phase on the document runs before htmx's own
     submit handler, so a cancelled confirmation also stops an htmx request. */
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      var submitter = event.submitter;
      var message = null;
      if (submitter && submitter.hasAttribute("data-confirm")) {
        message = submitter.getAttribute("data-confirm");
      } else if (form.hasAttribute("data-confirm")) {
        message = form.getAttribute("data-confirm");
      }
      if (message === null || message === "") {
        return;
      }
      if (!window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  /* A part of a form shown only while another field of the same form has a value:
       <div data-show-if="kind=final"> … </div>      (several values: "outcome=planned|refused")
     Without JavaScript everything stays visible; the server validates either way. */
  function updateConditionalParts(form) {
    var parts = form.querySelectorAll("[data-show-if]");
    for (var i = 0; i < parts.length; i++) {
      var spec = parts[i].getAttribute("data-show-if").split("=");
      var field = form.elements[spec[0]];
      // A RadioNodeList's value is the checked radio's value.
      var value = field ? field.value || "" : "";
      parts[i].hidden = spec[1].split("|").indexOf(value) === -1;
    }
  }

  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.querySelector("[data-show-if]")) {
      updateConditionalParts(form);
    }
  });

  function initConditionalParts() {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].querySelector("[data-show-if]")) {
        updateConditionalParts(forms[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initConditionalParts);
  } else {
    initConditionalParts();
  }
})();
