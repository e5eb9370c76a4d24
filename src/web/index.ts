/** The dashboard: server-rendered pages over the admin operations, served by the app server. */
export { createDashboard, answerClientError, MAX_URL_LENGTH, type DashboardOptions, type DashboardHandler, type DashboardLog } from "./dashboard.js";
