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
/// Points per stroke given to Zinnia: its features need the shape, not every touch sample.
const KEPT_POINTS: usize = 96;
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
                thin(s, KEPT_POINTS)
                    .map(|[x, y]| (x.clamp(0, w), y.clamp(0, h)))
                    .collect()
            })
            .collect();
        if strokes.is_empty() {
            return Err(InkError::Empty);
        }
        Ok(Ink {
            width: ink.width,
            height: ink.height,
            strokes,
        })
    }
}

/// At most `keep` points of a stroke, evenly by index, the first and last always kept.
fn thin(stroke: &[[i32; 2]], keep: usize) -> impl Iterator<Item = [i32; 2]> + '_ {
    let n = stroke.len();
    let take = n.min(keep);
    (0..take).map(move |i| {
        if take == 1 {
            stroke[0]
        } else {
            stroke[i * (n - 1) / (take - 1)]
        }
    })
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
        match zinnia {
            Ok(z) => Ok(z
                .classify(ink.width, ink.height, &ink.strokes, CANDIDATES)
                .into_iter()
                .map(|(c, _)| c)
                .collect()),
            Err(e) => Err(RecogniseError::Unavailable(e.clone())),
        }
    }
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
    fn long_strokes_are_thinned_with_their_ends() {
        let stroke: Vec<[i32; 2]> = (0..10_000).map(|i| [i % 300, i / 40]).collect();
        let checked = Ink::check(&ink(vec![stroke.clone()])).unwrap();
        let kept = &checked.strokes[0];
        assert_eq!(kept.len(), KEPT_POINTS);
        assert_eq!(kept[0], (0, 0));
        assert_eq!(*kept.last().unwrap(), (9_999 % 300, 9_999 / 40));
    }

    #[test]
    fn points_off_the_pad_are_clamped_and_bad_ink_refused() {
        let checked = Ink::check(&ink(vec![vec![[-50, 20], [900, 400]]])).unwrap();
        assert_eq!(checked.strokes[0], vec![(0, 20), (299, 299)]);
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
