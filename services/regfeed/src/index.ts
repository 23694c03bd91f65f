// The regulator feed's logic, for its tests.
export { EventFeed, FILTER_VALUES_MAX, FILTER_VALUE_LENGTH_MAX } from "./event-feed.js";
export { regfeedService, type CommitWaiter } from "./regfeed-service.js";
