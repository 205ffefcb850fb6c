/** The messaging components. */
export * from "./encryptedTopic";
export * from "./notificationTopics";
