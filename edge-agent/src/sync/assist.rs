//! 帮代办 and 上门取件 requests made at the plate, sent to the regional server.
