// Runs only when the browser runs scripts, which Tor Browser at "Safest" does not:
// it shows the warning that asks the author to raise the security level. Nothing else.
"use strict";
var warning = document.getElementById("script-warning");
if (warning) { warning.hidden = false; }
