/** The messaging components. */
export * from "./notificationTopics";
