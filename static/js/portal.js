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
})();
