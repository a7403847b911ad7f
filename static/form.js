// Progressive enhancement for a form page that came back from POST /report (422, 403, 429,
// 503): without it everything still works. Served as a file: the CSP allows no inline script.
(function () {
  'use strict';
  var form = document.querySelector('form.report');
  if (!form) return;
  // Shared phones: this history entry is a POST result that holds the report. When the
  // corrected form is sent, turn the entry into a plain GET of the empty form, so that Back
  // after the filing shows a blank form rather than "Confirm Form Resubmission", which
  // would post these values again. A refresh before sending still keeps them.
  form.addEventListener('submit', function () {
    if (window.history && history.replaceState) history.replaceState(null, '', '/');
  });
  // A link in the list of problems moves the focus into its field, not only the view.
  var links = document.querySelectorAll('#problems a[href^="#f-"], #confirm-box a[href^="#f-"]');
  Array.prototype.forEach.call(links, function (a) {
    a.addEventListener('click', function (event) {
      var field = document.getElementById(a.getAttribute('href').slice(1));
      var control = field && field.querySelector('input, select, textarea');
      if (!control) return;
      event.preventDefault();
      field.scrollIntoView();
      control.focus({ preventScroll: true });
    });
  });
})();
