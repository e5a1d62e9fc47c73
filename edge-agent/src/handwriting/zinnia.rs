//! Zinnia, the offline handwriting recogniser, opened at run time (`libzinnia.so.0`, Debian's
//! `libzinnia0`): no headers to build against, cross builds alike, and a terminal without it
//! still runs (handwriting says it is unavailable).
//!
//! Only the C API's recogniser, character and result calls are used. Every pointer Zinnia hands
//! out is owned by one Rust value and destroyed once, in `Drop`. The only unsafe code of the
//! workspace: each block says why it holds.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_float, c_int, c_void};
use std::path::Path;

use libloading::Library;

type Recognizer = c_void;
type Character = c_void;
type Results = c_void;

/// The C functions, resolved once from the library that stays loaded alongside them.
struct Api {
    recognizer_new: unsafe extern "C" fn() -> *mut Recognizer,
    recognizer_destroy: unsafe extern "C" fn(*mut Recognizer),
    recognizer_open: unsafe extern "C" fn(*mut Recognizer, *const c_char) -> c_int,
    recognizer_strerror: unsafe extern "C" fn(*mut Recognizer) -> *const c_char,
    recognizer_classify:
        unsafe extern "C" fn(*mut Recognizer, *const Character, usize) -> *mut Results,
    character_new: unsafe extern "C" fn() -> *mut Character,
    character_destroy: unsafe extern "C" fn(*mut Character),
    character_set_width: unsafe extern "C" fn(*mut Character, usize),
    character_set_height: unsafe extern "C" fn(*mut Character, usize),
    character_add: unsafe extern "C" fn(*mut Character, usize, c_int, c_int) -> c_int,
    result_size: unsafe extern "C" fn(*mut Results) -> usize,
    result_value: unsafe extern "C" fn(*mut Results, usize) -> *const c_char,
    result_score: unsafe extern "C" fn(*mut Results, usize) -> c_float,
    result_destroy: unsafe extern "C" fn(*mut Results),
    _library: Library,
}

/// A recogniser with its model open.
#[allow(missing_debug_implementations)]
pub struct Zinnia {
    api: Api,
    recognizer: *mut Recognizer,
}

// SAFETY: the recogniser is only read after `open` (classify takes it as const in Zinnia's
// C++ API); the caller still serialises calls (see `Recogniser`).
unsafe impl Send for Zinnia {}

#[derive(Debug, thiserror::Error)]
pub enum ZinniaError {
    #[error("libzinnia could not be opened ({0}): install libzinnia0")]
    Library(String),
    #[error("the handwriting model {path} could not be opened: {message}")]
    Model { path: String, message: String },
}

/// A stroke point on the writing pad, in pad pixels.
pub type Point = (i32, i32);

impl Zinnia {
    /// Opens the library and the model (memory-mapped by Zinnia).
    pub fn open(library: &str, model: &Path) -> Result<Zinnia, ZinniaError> {
        // SAFETY: loading libzinnia runs no code of ours; its initialisers are C++ statics.
        let lib =
            unsafe { Library::new(library) }.map_err(|e| ZinniaError::Library(e.to_string()))?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the signature is Zinnia's C API (zinnia.h, 0.06).
                *unsafe { lib.get(concat!($name, "\0").as_bytes()) }
                    .map_err(|e| ZinniaError::Library(e.to_string()))?
            };
        }
        let api = Api {
            recognizer_new: sym!("zinnia_recognizer_new"),
            recognizer_destroy: sym!("zinnia_recognizer_destroy"),
            recognizer_open: sym!("zinnia_recognizer_open"),
            recognizer_strerror: sym!("zinnia_recognizer_strerror"),
            recognizer_classify: sym!("zinnia_recognizer_classify"),
            character_new: sym!("zinnia_character_new"),
            character_destroy: sym!("zinnia_character_destroy"),
            character_set_width: sym!("zinnia_character_set_width"),
            character_set_height: sym!("zinnia_character_set_height"),
            character_add: sym!("zinnia_character_add"),
            result_size: sym!("zinnia_result_size"),
            result_value: sym!("zinnia_result_value"),
            result_score: sym!("zinnia_result_score"),
            result_destroy: sym!("zinnia_result_destroy"),
            _library: lib,
        };
        let model_text = model.to_string_lossy().into_owned();
        let path = CString::new(model_text.clone()).map_err(|_| ZinniaError::Model {
            path: model_text.clone(),
            message: "a NUL in the path".into(),
        })?;
        // SAFETY: a fresh recogniser, destroyed by `Drop` (or below when open fails).
        let recognizer = unsafe { (api.recognizer_new)() };
        let zinnia = Zinnia { api, recognizer };
        // SAFETY: the recogniser is live; the path is a NUL-terminated string.
        if unsafe { (zinnia.api.recognizer_open)(zinnia.recognizer, path.as_ptr()) } == 0 {
            // SAFETY: strerror returns a string owned by the recogniser, copied at once.
            let message =
                unsafe { CStr::from_ptr((zinnia.api.recognizer_strerror)(zinnia.recognizer)) }
                    .to_string_lossy()
                    .into_owned();
            return Err(ZinniaError::Model {
                path: model_text,
                message,
            });
        }
        Ok(zinnia)
    }

    /// The `n` best characters for the strokes on a pad of `width` × `height`, best first.
    pub fn classify(
        &self,
        width: u32,
        height: u32,
        strokes: &[Vec<Point>],
        n: usize,
    ) -> Vec<(String, f32)> {
        // SAFETY: a fresh character, destroyed before returning.
        let character = unsafe { (self.api.character_new)() };
        // SAFETY: every call below gets the live character and plain integers.
        unsafe {
            (self.api.character_set_width)(character, width as usize);
            (self.api.character_set_height)(character, height as usize);
            for (id, stroke) in strokes.iter().enumerate() {
                for &(x, y) in stroke {
                    (self.api.character_add)(character, id, x, y);
                }
            }
        }
        // SAFETY: the recogniser and the character are live; the result is ours to destroy.
        let results = unsafe { (self.api.recognizer_classify)(self.recognizer, character, n) };
        // SAFETY: the character is not used after this.
        unsafe { (self.api.character_destroy)(character) };
        if results.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        // SAFETY: indexes below result_size; values are NUL-terminated strings owned by the
        // result, copied before it is destroyed.
        unsafe {
            for i in 0..(self.api.result_size)(results) {
                let value = (self.api.result_value)(results, i);
                if value.is_null() {
                    continue;
                }
                let text = CStr::from_ptr(value).to_string_lossy().into_owned();
                out.push((text, (self.api.result_score)(results, i)));
            }
            (self.api.result_destroy)(results);
        }
        out
    }
}

impl Drop for Zinnia {
    fn drop(&mut self) {
        // SAFETY: created in `open`, destroyed only here.
        unsafe { (self.api.recognizer_destroy)(self.recognizer) };
    }
}
