/* Searchable selects, for phones and long lists (31 departments, 41 deputies).

   A <select> marked by the server (maslikhat/core/web.py, searchable_select) becomes a Tom Select
   (vendored under static/vendor/tom-select/): type part of a name, tap it; chosen values of a
   multiple select show as chips with a remove button. Marks:

     data-searchable=""        always (multiple selects)
     data-searchable="long"    only when the list is long (single selects: a short list keeps
                               the phone's own picker)
     data-search-placeholder, data-search-empty, data-search-remove
                               the translated texts (placeholder, "nothing found", "remove")

   The native select stays in the form and is what the browser posts; without JavaScript it is
   all there is. The label is moved to the search field (Tom Select does it), the help text is
   linked to it too, and the hidden native select leaves the accessibility tree. Loaded from
   'self' only: no inline script, no style attribute (Tom Select sizes through the CSSOM). */
(function () {
  "use strict";

  /* Single selects with more options than this become searchable. */
  var LONG_LIST = 20;

  function text(select, name) {
    return select.getAttribute(name) || "";
  }

  function removeButton(label) {
    return function () {
      var button = document.createElement("span");
      button.className = "remove";
      button.setAttribute("role", "button");
      button.setAttribute("aria-label", label);
      button.title = label;
      button.tabIndex = -1;
      button.textContent = "\u00d7";
      return button;
    };
  }

  function enhance(select) {
    if (select.tomselect || select.disabled) {
      return;
    }
    var multiple = select.multiple;
    if (!multiple && select.getAttribute("data-searchable") === "long" &&
        select.options.length <= LONG_LIST) {
      return;
    }
    var empty = text(select, "data-search-empty");
    var remove = text(select, "data-search-remove");
    var settings = {
      maxOptions: null,
      placeholder: text(select, "data-search-placeholder") || undefined,
      hidePlaceholder: multiple,
      // An optional single select may be cleared by choosing its empty option again.
      allowEmptyOption: !multiple && !select.required,
      closeAfterSelect: !multiple,
      // After a tap the search starts afresh for the next name; the list stays open.
      clearAfterSelect: multiple,
      plugins: multiple ? {remove_button: {title: remove, html: removeButton(remove)}} : {},
      render: {
        // An option that cannot be chosen: a list box holds options only (and it is read out).
        no_results: function (data, escape) {
          return '<div class="no-results" role="option" aria-disabled="true">' +
            escape(empty) + "</div>";
        }
      }
    };
    var widget = new TomSelect(select, settings);
    var field = widget.control_input;
    var describedBy = select.getAttribute("aria-describedby");
    if (describedBy) {
      field.setAttribute("aria-describedby", describedBy);
    }
    if (select.getAttribute("aria-invalid") === "true") {
      field.setAttribute("aria-invalid", "true");
    }
    if (select.required) {
      field.setAttribute("aria-required", "true");
    }
    // The search field speaks for the select now: the hidden copy is not read twice.
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
  }

  function enhanceAll(root) {
    if (typeof window.TomSelect === "undefined" || !root.querySelectorAll) {
      return;
    }
    var selects = root.querySelectorAll("select[data-searchable]");
    for (var i = 0; i < selects.length; i++) {
      enhance(selects[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhanceAll(document);
    });
  } else {
    enhanceAll(document);
  }
  // Parts of a page that htmx swaps in get the same treatment.
  document.addEventListener("htmx:load", function (event) {
    enhanceAll(event.target);
  });
})();
