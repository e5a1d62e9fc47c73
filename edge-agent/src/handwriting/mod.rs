//! Handwriting input: the strokes a citizen writes on the kiosk's pad → candidate characters,
//! best first, by Zinnia with the tegaki simplified-Chinese model. Runs on a blocking thread,
//! never on the runtime that answers the kiosk.

pub mod zinnia;

use std::path::PathBuf;
use std::sync::Mutex;

use menpai_model::api::HandwritingInk;
use serde::Deserialize;

use zinnia::{Point, Zinnia};

/// Strokes a character may have (the most complex common characters have about 30).
pub const MAX_STROKES: usize = 48;
/// Points a stroke may bring; longer strokes are refused, shorter ones thinned.
pub const MAX_POINTS: usize = 20_000;
/// Points per stroke given to Zinnia: the corners that make its shape. Zinnia splits a stroke
/// recursively at its farthest point and doubles a table per level; with at most this many
/// points no stroke (a spiral) can make that table large.
const KEPT_POINTS: usize = 16;
/// Candidates answered (the kiosk shows at least 8).
pub const CANDIDATES: usize = 10;
/// Pad sizes taken, in pixels each way.
const PAD_SIZES: std::ops::RangeInclusive<u32> = 32..=4096;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandwritingConfig {
    /// The Zinnia library, opened at run time.
    pub library: String,
    /// The recognition model (Debian's tegaki-zinnia-simplified-chinese).
    pub model: PathBuf,
}

/// Why strokes were not taken, in words for the citizen's screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InkError {
    #[error("请先在写字板上写字")]
    Empty,
    #[error("笔画太多（最多 {MAX_STROKES} 笔），请清除后重写")]
    TooManyStrokes,
    #[error("一笔太长（最多 {MAX_POINTS} 个点），请清除后重写")]
    StrokeTooLong,
    #[error("写字板尺寸不对（{0}×{1}）")]
    BadPad(u32, u32),
}

/// Strokes checked and ready for the recogniser: inside the pad, thinned.
#[derive(Debug, Clone, PartialEq)]
pub struct Ink {
    pub width: u32,
    pub height: u32,
    pub strokes: Vec<Vec<Point>>,
    /// The same strokes in a square box at least [`ROOMY`] of the pad: a character written
    /// small stays small (口, not 囗); its side, and the strokes in it.
    pub roomy: (u32, Vec<Vec<Point>>),
}

/// The roomy box's least side, as a share of the pad's shorter side.
const ROOMY: f32 = 0.8;

/// `strokes` in a square box around them (at least `least` across) with a margin, centred: a
/// wide pad must not squash the character. The box's side, and the strokes in it.
fn boxed(strokes: &[Vec<Point>], least: i32) -> (u32, Vec<Vec<Point>>) {
    let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
    for &(x, y) in strokes.iter().flatten() {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let side = (x1 - x0).max(y1 - y0).max(8).max(least);
    let margin = side / 16;
    let (left, top) = (
        x0 - (side - (x1 - x0)) / 2 - margin,
        y0 - (side - (y1 - y0)) / 2 - margin,
    );
    let moved = strokes
        .iter()
        .map(|s| s.iter().map(|(x, y)| (x - left, y - top)).collect())
        .collect();
    ((side + 2 * margin) as u32, moved)
}

impl Ink {
    /// Checks the pad and the stroke counts, clamps points to the pad (a finger sliding off
    /// its edge), drops empty strokes and thins long ones evenly (ends kept).
    pub fn check(ink: &HandwritingInk) -> Result<Ink, InkError> {
        if !PAD_SIZES.contains(&ink.width) || !PAD_SIZES.contains(&ink.height) {
            return Err(InkError::BadPad(ink.width, ink.height));
        }
        if ink.strokes.len() > MAX_STROKES {
            return Err(InkError::TooManyStrokes);
        }
        if ink.strokes.iter().any(|s| s.len() > MAX_POINTS) {
            return Err(InkError::StrokeTooLong);
        }
        let (w, h) = (ink.width as i32 - 1, ink.height as i32 - 1);
        let strokes: Vec<Vec<Point>> = ink
            .strokes
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                let clamped: Vec<[i32; 2]> = s
                    .iter()
                    .map(|[x, y]| [(*x).clamp(0, w), (*y).clamp(0, h)])
                    .collect();
                corners(&clamped, KEPT_POINTS)
            })
            .collect();
        if strokes.is_empty() {
            return Err(InkError::Empty);
        }
        // Into a square box around the ink, as Zinnia's model was trained.
        let (side, tight) = boxed(&strokes, 0);
        let least = (ink.width.min(ink.height) as f32 * ROOMY) as i32;
        Ok(Ink {
            width: side,
            height: side,
            strokes: tight,
            roomy: boxed(&strokes, least),
        })
    }
}

/// At most `keep` points of a stroke: its ends, then again and again the point farthest from
/// the line between the points kept on either side of it (the corners of the shape).
fn corners(stroke: &[[i32; 2]], keep: usize) -> Vec<Point> {
    let n = stroke.len();
    let mut kept: Vec<usize> = if n == 1 { vec![0] } else { vec![0, n - 1] };
    while kept.len() < keep.min(n) {
        let mut best: Option<(f64, usize, usize)> = None;
        for (slot, pair) in kept.windows(2).enumerate() {
            let (a, b) = (stroke[pair[0]], stroke[pair[1]]);
            for (i, p) in stroke.iter().enumerate().take(pair[1]).skip(pair[0] + 1) {
                let d = distance(*p, a, b);
                if best.is_none_or(|(bd, _, _)| d > bd) {
                    best = Some((d, slot + 1, i));
                }
            }
        }
        match best {
            Some((d, slot, i)) if d > 0.5 => kept.insert(slot, i),
            _ => break,
        }
    }
    kept.into_iter()
        .map(|i| (stroke[i][0], stroke[i][1]))
        .collect()
}

/// Distance of `p` from the line through `a` and `b` (from `a` when they coincide).
fn distance(p: [i32; 2], a: [i32; 2], b: [i32; 2]) -> f64 {
    let (px, py) = (f64::from(p[0] - a[0]), f64::from(p[1] - a[1]));
    let (dx, dy) = (f64::from(b[0] - a[0]), f64::from(b[1] - a[1]));
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        (px * px + py * py).sqrt()
    } else {
        (px * dy - py * dx).abs() / len
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RecogniseError {
    #[error("手写识别暂不可用")]
    Unavailable(String),
}

/// The recogniser, opened at first use (the model is 26 MB, memory-mapped) and kept.
pub struct Recogniser {
    config: HandwritingConfig,
    zinnia: Mutex<Option<Result<Zinnia, String>>>,
}

impl std::fmt::Debug for Recogniser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recogniser")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Recogniser {
    pub fn new(config: HandwritingConfig) -> Self {
        Recogniser {
            config,
            zinnia: Mutex::new(None),
        }
    }

    /// The best characters for the ink, best first. Blocks for a few milliseconds: call it
    /// from a blocking thread.
    pub fn recognise(&self, ink: &Ink) -> Result<Vec<String>, RecogniseError> {
        let mut slot = self.zinnia.lock().unwrap_or_else(|p| p.into_inner());
        let zinnia = slot.get_or_insert_with(|| {
            Zinnia::open(&self.config.library, &self.config.model).map_err(|e| {
                tracing::warn!(error = %e, "Handwriting recognition is unavailable.");
                e.to_string()
            })
        });
        let z = zinnia
            .as_ref()
            .map_err(|e| RecogniseError::Unavailable(e.clone()))?;
        // Both boxes, each character at its better score.
        let (side, roomy) = &ink.roomy;
        let mut best: Vec<(String, f32)> = Vec::new();
        let mut take = |found: Vec<(String, f32)>, penalty: f32| {
            for (c, score) in found {
                let score = score - penalty;
                match best.iter_mut().find(|(b, _)| *b == c) {
                    Some((_, s)) => *s = s.max(score),
                    None => best.push((c, score)),
                }
            }
        };
        take(
            z.classify(ink.width, ink.height, &ink.strokes, CANDIDATES),
            0.0,
        );
        take(z.classify(*side, *side, roomy, CANDIDATES), 0.0);
        for order in neighbours_swapped(&ink.strokes) {
            take(
                z.classify(ink.width, ink.height, &order, CANDIDATES),
                SWAP_PENALTY,
            );
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(best.into_iter().take(CANDIDATES).map(|(c, _)| c).collect())
    }
}

/// Strokes from which a character may have two neighbouring strokes in the other order: many
/// people write 生's 竖 before its middle 横, or 水's 横撇 first, and Zinnia's model knows one
/// order. Fewer strokes are told apart by their order (人 and 入).
const SWAP_FROM_STROKES: usize = 4;
/// Strokes up to which every neighbouring pair is tried (one classification each).
const SWAP_UP_TO_STROKES: usize = 16;
/// What a swapped order's score gives up against the order as written.
const SWAP_PENALTY: f32 = 0.1;

/// The strokes once for each pair of neighbours swapped (none for short or long characters).
fn neighbours_swapped(strokes: &[Vec<Point>]) -> Vec<Vec<Vec<Point>>> {
    if !(SWAP_FROM_STROKES..=SWAP_UP_TO_STROKES).contains(&strokes.len()) {
        return Vec::new();
    }
    (1..strokes.len())
        .map(|i| {
            let mut order = strokes.to_vec();
            order.swap(i - 1, i);
            order
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ink(strokes: Vec<Vec<[i32; 2]>>) -> HandwritingInk {
        HandwritingInk {
            width: 300,
            height: 300,
            strokes,
        }
    }

    #[test]
    fn neighbouring_strokes_are_tried_swapped_from_four_strokes() {
        let stroke = |i: i32| vec![(i, i)];
        let three: Vec<_> = (0..3).map(stroke).collect();
        assert!(neighbours_swapped(&three).is_empty());
        let four: Vec<_> = (0..4).map(stroke).collect();
        let swapped = neighbours_swapped(&four);
        assert_eq!(swapped.len(), 3);
        assert_eq!(swapped[1], vec![stroke(0), stroke(2), stroke(1), stroke(3)]);
        let many: Vec<_> = (0..17).map(stroke).collect();
        assert!(neighbours_swapped(&many).is_empty());
    }

    #[test]
    fn long_strokes_keep_their_ends_and_corners() {
        // An L: down 200, then right 200, sampled every pixel.
        let mut stroke: Vec<[i32; 2]> = (0..200).map(|y| [50, 50 + y]).collect();
        stroke.extend((0..200).map(|x| [50 + x, 250]));
        let kept = corners(&stroke, KEPT_POINTS);
        assert_eq!(kept, vec![(50, 50), (50, 250), (249, 250)]);
        let scribble: Vec<[i32; 2]> = (0..10_000).map(|i| [i % 300, i / 40]).collect();
        assert_eq!(corners(&scribble, KEPT_POINTS).len(), KEPT_POINTS);
    }

    #[test]
    fn ink_goes_into_a_square_box_around_it() {
        let mut wide = ink(vec![
            vec![[400, 100], [400, 200]],
            vec![[350, 150], [450, 150]],
        ]);
        wide.width = 900;
        let checked = Ink::check(&wide).unwrap();
        assert_eq!(checked.width, checked.height);
        assert_eq!(checked.width, 100 + 2 * 6);
        assert_eq!(checked.strokes[0], vec![(56, 6), (56, 106)]);
    }

    #[test]
    fn points_off_the_pad_are_clamped_and_bad_ink_refused() {
        let checked = Ink::check(&ink(vec![vec![[-50, 20], [900, 400]]])).unwrap();
        // Clamped to (0, 20) and (299, 299), then boxed: 299 across with a margin of 18.
        assert_eq!(checked.strokes[0], vec![(18, 28), (317, 307)]);
        assert_eq!(checked.width, 335);
        assert_eq!(Ink::check(&ink(vec![vec![]])), Err(InkError::Empty));
        assert_eq!(Ink::check(&ink(vec![])), Err(InkError::Empty));
        let many = vec![vec![[1, 1]]; MAX_STROKES + 1];
        assert_eq!(Ink::check(&ink(many)), Err(InkError::TooManyStrokes));
        let long = vec![vec![[1, 1]; MAX_POINTS + 1]];
        assert_eq!(Ink::check(&ink(long)), Err(InkError::StrokeTooLong));
        let mut tiny = ink(vec![vec![[1, 1]]]);
        tiny.width = 0;
        assert_eq!(Ink::check(&tiny), Err(InkError::BadPad(0, 300)));
    }
}
