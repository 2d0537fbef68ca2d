/*
 * Citydesk inside the Telegram and VK Mini Apps (docs/miniapp.md).
 *
 * 1. Sign-in from the launch parameters. Telegram puts them in the URL
 *    fragment (#tgWebAppData=<initData>&tgWebAppVersion=…), VK in the query
 *    string (vk_* + sign). They are posted once to POST /api/v1/auth/miniapp/
 *    (Authorization: tma …/vk …), which opens a Django session, then the page
 *    is reloaded without them: on /miniapp/open/?start=<param> when the app
 *    was launched with a start parameter (the server maps it to a page), on
 *    the same page otherwise. Refused launch data leaves the visitor
 *    anonymous with a message, never an error page. There is no loop: the
 *    reloaded URL carries no launch parameters, and a session the webview
 *    did not store is reported once.
 * 2. Feeling native: Telegram's theme colours and back button (our own few
 *    lines over Telegram's web_app_* events, see docs/miniapp.md for why not
 *    telegram-web-app.js), VK's VKWebAppInit and light/dark appearance through
 *    the vendored vk-bridge, loaded only inside VK.
 * 3. After a booking, the VK Mini App asks for permission to message the user
 *    (VKWebAppAllowMessagesFromGroup), so reminders reach them in VK.
 *
 * Configuration and texts come from the page (#miniapp-config, json_script).
 * Outside a Mini App this script does nothing.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("miniapp-config");
  if (!configElement || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var root = document.documentElement;
  var PREFIX = "citydesk.miniapp.";
  var START_PARAM = /^[A-Za-z0-9_-]{1,64}$/;
  var COLOR = /^#[0-9a-fA-F]{6}$/;

  // --- sessionStorage (the webview's tab; unavailable in some privacy modes) ----------

  function load(key) {
    try {
      return window.sessionStorage.getItem(PREFIX + key);
    } catch (e) {
      return null;
    }
  }

  function save(key, value) {
    try {
      if (value === null) {
        window.sessionStorage.removeItem(PREFIX + key);
      } else {
        window.sessionStorage.setItem(PREFIX + key, value);
      }
    } catch (e) {
      /* nothing to remember with: the page still works */
    }
  }

  function take(key) {
    var value = load(key);
    save(key, null);
    return value;
  }

  // --- messages -----------------------------------------------------------------------

  function showMessage(text, level) {
    var main = document.getElementById("main");
    if (!main || !text) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (level || "warning") + " alert-dismissible fade show miniapp-message";
    alert.setAttribute("role", "alert");
    alert.appendChild(document.createTextNode(text));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", config.messages.close);
    alert.appendChild(close);
    main.insertBefore(alert, main.firstChild);
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, name) {
      return values[name] === undefined ? match : values[name];
    });
  }

  // --- launch parameters --------------------------------------------------------------

  function telegramLaunch() {
    var hash = window.location.hash.replace(/^#/, "");
    if (hash.indexOf("tgWebAppData=") < 0) {
      return null;
    }
    var params = new URLSearchParams(hash);
    var initData = params.get("tgWebAppData") || "";
    var startParam = params.get("tgWebAppStartParam") || new URLSearchParams(initData).get("start_param") || "";
    var theme = null;
    try {
      theme = JSON.parse(params.get("tgWebAppThemeParams") || "null");
    } catch (e) {
      theme = null;
    }
    return {
      platform: "telegram",
      scheme: "tma",
      credentials: initData,
      startParam: START_PARAM.test(startParam) ? startParam : "",
      theme: theme,
      cleanUrl: window.location.pathname + window.location.search,
    };
  }

  function vkLaunch() {
    var query = window.location.search.replace(/^\?/, "");
    var params = new URLSearchParams(query);
    if (!params.has("sign") || !params.has("vk_user_id")) {
      return null;
    }
    // VK passes the start parameter as the hash after the app's address (vk.com/app<id>#org_12).
    var hash = window.location.hash.replace(/^#/, "");
    var rest = new URLSearchParams();
    params.forEach(function (value, key) {
      if (key !== "sign" && key.indexOf("vk_") !== 0) {
        rest.append(key, value);
      }
    });
    var restQuery = rest.toString();
    return {
      platform: "vk",
      scheme: "vk",
      credentials: query,
      startParam: START_PARAM.test(hash) ? hash : "",
      appearance: params.get("vk_appearance") || "",
      cleanUrl: window.location.pathname + (restQuery ? "?" + restQuery : ""),
    };
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function signIn(launch) {
    var platformName = launch.platform === "telegram" ? "Telegram" : "VK";

    function proceed() {
      var target = launch.startParam
        ? config.openUrl + "?start=" + encodeURIComponent(launch.startParam)
        : launch.cleanUrl;
      window.location.replace(target);
    }

    function refused(detail) {
      save("flash", format(config.messages.signInFailed, { platform: platformName, reason: detail || "" }));
      proceed();
    }

    window
      .fetch(config.authUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          Authorization: launch.scheme + " " + launch.credentials,
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ start_param: launch.startParam }),
      })
      .then(
        function (response) {
          if (response.ok) {
            save("expectSession", "1");
            proceed();
            return null;
          }
          return response.json().then(
            function (body) {
              refused(body && typeof body.detail === "string" ? body.detail : "");
            },
            function () {
              refused("");
            }
          );
        },
        function () {
          save("flash", config.messages.offline);
          proceed();
        }
      );
  }

  // --- Telegram: events both ways (what telegram-web-app.js does, in a few lines) -----

  var telegramHandlers = {};

  function telegramReceive(eventType, eventData) {
    var handler = telegramHandlers[eventType];
    if (handler) {
      try {
        handler(eventData || {});
      } catch (e) {
        /* a bad event must not break the page */
      }
    }
  }

  function telegramAvailable() {
    return (
      window.TelegramWebviewProxy !== undefined ||
      Boolean(window.external && "notify" in window.external) ||
      window.parent !== window
    );
  }

  function telegramPost(eventType, eventData) {
    var data = eventData === undefined ? "" : eventData;
    try {
      if (window.TelegramWebviewProxy !== undefined) {
        window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(data)); // Android, iOS
      } else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: eventType, eventData: data })); // Windows
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: eventType, eventData: data }), "*"); // web clients
      }
    } catch (e) {
      /* not inside Telegram after all */
    }
  }

  function telegramListen() {
    // The mobile apps call window.Telegram.WebView.receiveEvent(type, data); the web clients post messages.
    window.Telegram = window.Telegram || {};
    window.Telegram.WebView = window.Telegram.WebView || {};
    window.Telegram.WebView.receiveEvent = telegramReceive;
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || typeof event.data !== "string") {
        return;
      }
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (message && typeof message.eventType === "string") {
        telegramReceive(message.eventType, message.eventData);
      }
    });
  }

  function isDark(color) {
    var r = parseInt(color.substr(1, 2), 16);
    var g = parseInt(color.substr(3, 2), 16);
    var b = parseInt(color.substr(5, 2), 16);
    return Math.sqrt(0.299 * r * r + 0.587 * g * g + 0.114 * b * b) < 120;
  }

  function applyTelegramTheme(theme) {
    if (!theme || typeof theme !== "object") {
      return;
    }
    Object.keys(theme).forEach(function (key) {
      var value = theme[key];
      if (/^[a-z_]{1,40}$/.test(key) && typeof value === "string" && COLOR.test(value)) {
        root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
      }
    });
    if (typeof theme.bg_color === "string" && COLOR.test(theme.bg_color)) {
      root.setAttribute("data-bs-theme", isDark(theme.bg_color) ? "dark" : "light");
      root.classList.add("miniapp-themed");
    }
    save("telegramTheme", JSON.stringify(theme));
  }

  function applyInsets(prefix, insets) {
    ["top", "bottom", "left", "right"].forEach(function (side) {
      var value = insets && insets[side];
      if (typeof value === "number" && value >= 0 && value < 500) {
        root.style.setProperty("--tg-" + prefix + "-inset-" + side, value + "px");
      }
    });
  }

  // How deep in the Mini App's own history this page is: the back button shows from depth 1.
  function historyDepth() {
    var state = window.history.state;
    if (state && typeof state.citydeskDepth === "number") {
      return state.citydeskDepth; // back/forward: this entry's depth
    }
    var replaced = take("replacedDepth");
    var last = load("depth");
    var depth = replaced !== null ? Number(replaced) : last === null ? 0 : Number(last) + 1;
    try {
      var next = {};
      if (state && typeof state === "object") {
        Object.keys(state).forEach(function (key) {
          next[key] = state[key];
        });
      }
      next.citydeskDepth = depth;
      window.history.replaceState(next, "");
    } catch (e) {
      /* no history API: the depth of a new page is still right */
    }
    return depth;
  }

  function showBackButton() {
    var depth = historyDepth();
    save("depth", String(depth));
    telegramPost("web_app_setup_back_button", { is_visible: depth > 0 });
  }

  // Links leaving the site: t.me links open inside Telegram, others in the external browser.
  function telegramLinks(event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.metaKey || event.ctrlKey || !telegramAvailable()) {
      return;
    }
    var url;
    try {
      url = new URL(link.href, window.location.href);
    } catch (e) {
      return;
    }
    if (url.origin === window.location.origin || !/^https?:$/.test(url.protocol)) {
      return;
    }
    event.preventDefault();
    if (url.hostname === "t.me") {
      telegramPost("web_app_open_tg_link", { path_full: url.pathname + url.search });
    } else {
      telegramPost("web_app_open_link", { url: url.href });
    }
  }

  function setUpTelegram(launch) {
    root.classList.add("miniapp", "miniapp-telegram");
    telegramListen();
    var theme = launch && launch.theme;
    if (!theme) {
      try {
        theme = JSON.parse(load("telegramTheme") || "null");
      } catch (e) {
        theme = null;
      }
    }
    applyTelegramTheme(theme);
    telegramHandlers.theme_changed = function (data) {
      applyTelegramTheme(data.theme_params);
    };
    telegramHandlers.safe_area_changed = function (data) {
      applyInsets("safe-area", data);
    };
    telegramHandlers.content_safe_area_changed = function (data) {
      applyInsets("content-safe-area", data);
    };
    telegramHandlers.back_button_pressed = function () {
      window.history.back();
    };
    document.addEventListener("click", telegramLinks);
    if (!launch) {
      // (The launch page is about to be replaced by its clean URL, which starts the history.)
      showBackButton();
      window.addEventListener("pageshow", function (event) {
        if (event.persisted) {
          showBackButton(); // back from the browser's page cache: no script ran again
        }
      });
    }
    telegramPost("web_app_ready");
    telegramPost("web_app_expand");
    telegramPost("web_app_request_theme");
    telegramPost("web_app_request_safe_area");
    telegramPost("web_app_request_content_safe_area");
  }

  // --- VK: vk-bridge, loaded only inside VK ----------------------------------------------

  function applyVKAppearance(appearance) {
    if (appearance === "dark" || appearance === "light") {
      root.setAttribute("data-bs-theme", appearance);
      save("vkAppearance", appearance);
    }
  }

  function withVKBridge(callback) {
    if (window.vkBridge) {
      callback(window.vkBridge);
      return;
    }
    var script = document.createElement("script");
    script.src = config.vkBridgeUrl;
    script.onload = function () {
      if (window.vkBridge) {
        callback(window.vkBridge);
      }
    };
    document.head.appendChild(script);
  }

  function askVKMessagesPermission(bridge) {
    if (!document.querySelector("[data-miniapp-allow-messages]") || !config.vkGroupId) {
      return;
    }
    bridge
      .send("VKWebAppAllowMessagesFromGroup", { group_id: config.vkGroupId })
      .then(function (data) {
        if (data && data.result) {
          showMessage(config.messages.vkMessagesAllowed, "success");
        }
      })
      .catch(function () {
        /* declined: notifications keep going by email */
      });
  }

  function setUpVK(launch) {
    root.classList.add("miniapp", "miniapp-vk");
    applyVKAppearance((launch && launch.appearance) || load("vkAppearance"));
    withVKBridge(function (bridge) {
      bridge.subscribe(function (event) {
        var detail = event && event.detail;
        if (detail && detail.type === "VKWebAppUpdateConfig" && detail.data) {
          applyVKAppearance(detail.data.appearance);
        }
      });
      bridge.send("VKWebAppInit").catch(function () {
        /* outside VK's clients (a shared link opened in a browser) */
      });
      askVKMessagesPermission(bridge);
      // "Share in VK" opens VK's own share box inside the app.
      document.addEventListener("click", function (event) {
        var link = event.target.closest ? event.target.closest("a[data-miniapp-share=vk]") : null;
        if (link && link.getAttribute("data-share-link")) {
          event.preventDefault();
          bridge.send("VKWebAppShare", { link: link.getAttribute("data-share-link") }).catch(function () {
            window.open(link.href, "_blank", "noopener");
          });
        }
      });
    });
  }

  // --- start ------------------------------------------------------------------------------

  var launch = telegramLaunch() || vkLaunch();
  var platform = launch ? launch.platform : load("platform");
  if (launch) {
    save("platform", launch.platform);
    // A launch opens the Mini App: the page it reloads to is the first of its history.
    save("replacedDepth", "0");
  } else {
    var flash = take("flash");
    if (take("expectSession") === "1" && !config.authenticated) {
      flash = config.messages.sessionNotStored;
    }
    showMessage(flash);
  }
  if (platform === "telegram") {
    setUpTelegram(launch);
  } else if (platform === "vk") {
    setUpVK(launch);
  }
  if (launch) {
    signIn(launch);
  }
})();
