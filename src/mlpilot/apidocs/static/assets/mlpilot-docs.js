// /docs: ask for an API key, then start Swagger UI with it.
//
// The OpenAPI document needs a key like the rest of the API, so the page holds no API data of its
// own. The key is kept in this tab's sessionStorage only (gone when the tab closes; never in
// localStorage, a cookie or a URL) and added by Swagger UI's requestInterceptor to every request
// it sends to this server, the fetch of the document included.
(function () {
  "use strict";

  var STORAGE_KEY = "mlpilot.apiKey";
  var specUrl = new URL(document.body.dataset.openapiUrl, window.location.href).href;
  var signIn = document.getElementById("sign-in");
  var form = document.getElementById("key-form");
  var input = document.getElementById("api-key");
  var error = document.getElementById("key-error");
  var signedIn = document.getElementById("signed-in");
  var forget = document.getElementById("forget-key");
  var reference = document.getElementById("swagger-ui");

  function storedKey() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY);
    } catch (ignored) {
      return null; // storage disabled: the key lives only as long as this page
    }
  }

  function store(key) {
    try {
      if (key === null) {
        window.sessionStorage.removeItem(STORAGE_KEY);
      } else {
        window.sessionStorage.setItem(STORAGE_KEY, key);
      }
    } catch (ignored) {
      // storage disabled: nothing to keep or forget
    }
  }

  function sameOrigin(url) {
    return new URL(url, window.location.href).origin === window.location.origin;
  }

  function ask(message) {
    reference.replaceChildren();
    signedIn.hidden = true;
    signIn.hidden = false;
    error.textContent = message;
    error.hidden = !message;
    input.value = "";
    input.focus();
  }

  function start(key) {
    signIn.hidden = true;
    signedIn.hidden = false;
    // A fresh mount point each time: a refused key leaves the previous UI behind, detached.
    var mount = document.createElement("div");
    reference.replaceChildren(mount);
    window.SwaggerUIBundle({
      url: specUrl,
      domNode: mount,
      deepLinking: true,
      layout: "BaseLayout",
      presets: [window.SwaggerUIBundle.presets.apis],
      validatorUrl: null, // the public validator would receive the document
      requestInterceptor: function (request) {
        // Only to this server: the key must never travel to a host named in a document.
        if (sameOrigin(request.url)) {
          request.headers = request.headers || {};
          request.headers.Authorization = "Bearer " + key;
        }
        return request;
      },
      responseInterceptor: function (response) {
        if (response.status === 401 && new URL(response.url, window.location.href).href === specUrl) {
          store(null);
          ask("The server refused that key (unknown, revoked or mistyped). Try another.");
        }
        return response;
      },
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var key = input.value.trim();
    input.value = "";
    if (!key) {
      return;
    }
    store(key);
    start(key);
  });

  forget.addEventListener("click", function () {
    store(null);
    ask("");
  });

  var key = storedKey();
  if (key) {
    start(key);
  } else {
    ask("");
  }
})();
