//! Tickets' secrets on the server: each terminal's ticket key derives from one master key, so
//! the server checks the secret of any ticket, online or minted offline, without storing it.

use menpai_model::ticket;

pub struct TicketKeys {
    master: [u8; 32],
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKeys")
    }
}

impl TicketKeys {
    pub fn new(master: [u8; 32]) -> TicketKeys {
        TicketKeys { master }
    }

    /// The key a terminal mints its tickets' secrets with (given to it at enrollment).
    pub fn for_device(&self, device_id: &str) -> [u8; 32] {
        ticket::device_key(&self.master, device_id)
    }

    /// Whether `given` is the secret of a ticket the terminal `device` issued.
    pub fn matches(&self, device: &str, hall: &str, day: &str, number: &str, given: &str) -> bool {
        ticket::matches(&self.for_device(device), hall, day, number, given)
    }
}
