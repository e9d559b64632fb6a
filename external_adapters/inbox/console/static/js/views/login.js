// The sign-in form: Email, Password, Sign in; the server's words (wrong password, throttled) in role="alert".
import { api } from "../api.js";
import { $ } from "../dom.js";

/** Show the sign-in form (the URL stays, so signing in goes back to what was asked for). */
export function showLogin() {
  $("app").hidden = true;
  $("login").hidden = false;
  document.title = "Sign in · Inbox";
  $("login-email").focus();
}

function problem(error) {
  if (error.status === 429 && error.retryAfter) return `${error.message} Try again in ${error.retryAfter} s.`;
  return error.message;
}

/** Wire the form: a successful sign-in calls `start()`. */
export function initLogin(start) {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api("POST", "/login", { email: $("login-email").value.trim(), password: $("login-password").value });
      $("login-error").textContent = "";
      $("login-password").value = "";
      await start();
    } catch (error) {
      $("login-error").textContent = problem(error);
    } finally {
      button.disabled = false;
    }
  });
}
