//! Citizens' requests — 帮代办, 上门取件 — and consultations, as the plate's agent sends them
//! to the regional server.
