// SMART launch URL (/launch.html?iss=…&launch=…): hand the query string to the app page, same origin only.
window.location.replace(`index.html${window.location.search}`);
