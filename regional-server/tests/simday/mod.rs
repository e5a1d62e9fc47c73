//! A deterministic simulated day in a region's halls: who arrives when (a morning and an
//! afternoon peak), for which business, with an appointment or not, and what becomes of each
//! ticket (walking up, service time, no-show, transfer, rating), plus what they did at the
//! terminal (searches, guides, prints, QR, help, the session's length). Drawn from a seed, so
//! the same seed gives the same day; the test drives it through the server's routes.

/// xorshift64* (Vigna 2016): tiny, deterministic, good enough to draw a day from. Not for
/// anything secret.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `pct` %.
    pub(crate) fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// Roughly normal (Irwin–Hall: twelve uniforms), mean 0 and standard deviation 1.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12)
            .map(|_| self.below(1_000_000) as f64 / 1e6)
            .sum::<f64>()
            - 6.0
    }

    /// An index drawn by weight.
    pub(crate) fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// A hall as the generator needs it.
#[derive(Debug, Clone)]
pub(crate) struct HallPlan {
    /// Business prefixes that some window serves.
    pub(crate) prefixes: Vec<String>,
    pub(crate) windows: usize,
}

/// What becomes of one ticket once a window calls it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fate {
    /// From the call to the citizen reaching the window.
    pub(crate) walk_s: i64,
    /// Never came: recalled once, then marked a no-show.
    pub(crate) no_show: bool,
    /// Sent on to another business after part of the service.
    pub(crate) transfer_to: Option<String>,
    pub(crate) service_s: i64,
    /// The service of the hop after a transfer.
    pub(crate) second_service_s: i64,
    /// Stars given at the terminal once done, if any.
    pub(crate) rating: Option<u8>,
}

/// One use of a terminal, before the ticket is taken.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Use {
    /// `search`, `guide`, `print`, `qr`, `help`, `ticket` or `session`.
    pub(crate) kind: &'static str,
    pub(crate) subject: String,
    pub(crate) hits: Option<u32>,
    pub(crate) seconds: Option<u32>,
}

/// One arrival: a ticket taken at a hall's terminal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arrival {
    pub(crate) hall: usize,
    /// Seconds after midnight, local time.
    pub(crate) at_s: i64,
    pub(crate) prefix: String,
    pub(crate) appointment: bool,
    pub(crate) fate: Fate,
    /// What they did at the terminal, in order, ending with the ticket and the session.
    pub(crate) uses: Vec<Use>,
}

/// Words citizens search for, and how many guides each finds; those finding none are the
/// content team's to-do list.
pub(crate) const SEARCHES: [(&str, u32, u64); 8] = [
    ("社保卡", 6, 20),
    ("身份证", 4, 14),
    ("公积金提取", 3, 12),
    ("营业执照", 5, 10),
    ("居住证", 2, 8),
    ("养犬登记", 0, 9),
    ("电动车上牌", 0, 5),
    ("无人机备案", 0, 2),
];

const MORNING_PEAK_S: f64 = 10.0 * 3600.0;
const AFTERNOON_PEAK_S: f64 = 14.75 * 3600.0;
const PEAK_SD_S: f64 = 55.0 * 60.0;
const FIRST_S: i64 = 9 * 3600;
const LAST_S: i64 = 16 * 3600 + 45 * 60;

/// `tickets` arrivals over `halls` (shared by their windows), in time order, drawn from `seed`;
/// `items` are the guides a citizen may open.
pub(crate) fn day(seed: u64, halls: &[HallPlan], items: &[String], tickets: usize) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let weights: Vec<u64> = halls.iter().map(|h| h.windows as u64).collect();
    let mut arrivals: Vec<Arrival> = (0..tickets)
        .map(|_| {
            let hall = rng.weighted(&weights);
            let h = &halls[hall];
            let peak = if rng.chance(55) {
                MORNING_PEAK_S
            } else {
                AFTERNOON_PEAK_S
            };
            let at_s = ((peak + rng.normal() * PEAK_SD_S) as i64).clamp(FIRST_S, LAST_S);
            let prefix = h.prefixes[rng.below(h.prefixes.len() as u64) as usize].clone();
            let others: Vec<&String> = h.prefixes.iter().filter(|p| **p != prefix).collect();
            let transfer_to = (!others.is_empty() && rng.chance(4))
                .then(|| others[rng.below(others.len() as u64) as usize].clone());
            let no_show = transfer_to.is_none() && rng.chance(6);
            let rating = (!no_show && rng.chance(35))
                .then(|| [5, 4, 3, 2, 1][rng.weighted(&[50, 25, 12, 8, 5])]);
            let fate = Fate {
                walk_s: 20 + rng.below(70) as i64,
                no_show,
                transfer_to,
                service_s: 60 + (0..3).map(|_| rng.below(150) as i64).sum::<i64>(),
                second_service_s: 120 + rng.below(300) as i64,
                rating,
            };
            let appointment = rng.chance(8);
            let uses = uses(&mut rng, items, &prefix);
            Arrival {
                hall,
                at_s,
                prefix,
                appointment,
                fate,
                uses,
            }
        })
        .collect();
    arrivals.sort_by_key(|a| a.at_s);
    arrivals
}

fn uses(rng: &mut Rng, items: &[String], prefix: &str) -> Vec<Use> {
    let mut uses = Vec::new();
    let plain = |kind, subject: &str| Use {
        kind,
        subject: subject.to_owned(),
        hits: None,
        seconds: None,
    };
    if rng.chance(50) {
        let weights: Vec<u64> = SEARCHES.iter().map(|s| s.2).collect();
        let (words, hits, _) = SEARCHES[rng.weighted(&weights)];
        uses.push(Use {
            kind: "search",
            subject: words.to_owned(),
            hits: Some(hits),
            seconds: None,
        });
    }
    if !items.is_empty() && rng.chance(35) {
        // A few guides are opened far more often than the rest.
        let i = (rng.below(items.len() as u64) * rng.below(100) / 100) as usize;
        let item = &items[i];
        uses.push(plain("guide", item));
        if rng.chance(30) {
            uses.push(plain("print", item));
        } else if rng.chance(12) {
            uses.push(plain("qr", item));
        }
    }
    if rng.chance(4) {
        uses.push(plain("help", ""));
    }
    uses.push(plain("ticket", prefix));
    if rng.chance(70) {
        uses.push(Use {
            kind: "session",
            subject: String::new(),
            hits: None,
            seconds: Some(30 + rng.below(360) as u32),
        });
    }
    uses
}
