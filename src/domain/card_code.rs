//! Card codes (减负凭证): three Crockford base-32 characters naming the card's batch, 16
//! random ones (80 bits) and one Luhn mod 32 check character, printed in five groups of four.
//!
//! P1: the batch number selects the per-batch key the card is hashed under, so a submission
//! computes one HMAC, and the card table needs no batch column. The holder of a card knows
//! its batch anyway; a copy of the database without the printed codes cannot attribute a row.

use rand::{CryptoRng, Rng};
use zeroize::Zeroizing;

/// Crockford's base-32 alphabet: no I, L, O or U, so a code reads aloud without doubt.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters that carry the batch number: 32^3 = 32,768 numbers.
const BATCH_LEN: usize = 3;
const RANDOM_LEN: usize = 16;
/// Characters in a code, check character included.
pub const CODE_LEN: usize = BATCH_LEN + RANDOM_LEN + 1;

/// The number of a card batch as a card carries it: 1 to 32,767.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchNumber(u16);

impl BatchNumber {
    pub const MAX: u16 = 32 * 32 * 32 - 1;

    /// A batch number, if it is one a card can carry.
    pub fn new(n: i64) -> Option<BatchNumber> {
        u16::try_from(n)
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(BatchNumber)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for BatchNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A well-formed card code, normalized (upper case, no separators). Whether it may file is
/// the store's question, not this type's.
pub struct CardCode(Zeroizing<String>);

impl std::fmt::Debug for CardCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // P4: a card code never reaches a log, even by accident.
        f.write_str("CardCode(..)")
    }
}

/// Why a typed code is not a card code at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardCodeError {
    #[error("empty")]
    Empty,
    #[error("wrong length")]
    Length,
    #[error("not a code character")]
    Character,
    #[error("check character does not match")]
    Check,
}

impl CardCodeError {
    /// What the reporter reads beside the field.
    pub fn message(self) -> &'static str {
        match self {
            CardCodeError::Empty => "请填写减负凭证上的编码。",
            CardCodeError::Length => "编码应为 20 位（四位一组，共五组），请核对是否漏抄或多抄。",
            CardCodeError::Character => "编码只含数字和字母，请核对是否有其他符号。",
            CardCodeError::Check => "编码核对不上，可能有一位抄错或两位顺序颠倒，请逐位核对。",
        }
    }
}

impl CardCode {
    /// A fresh random code of batch `batch`.
    pub fn generate<R: Rng + CryptoRng>(batch: BatchNumber, rng: &mut R) -> CardCode {
        let mut s = String::with_capacity(CODE_LEN);
        for shift in [10, 5, 0] {
            s.push(ALPHABET[usize::from(batch.0 >> shift) & 31] as char);
        }
        for _ in 0..RANDOM_LEN {
            s.push(ALPHABET[rng.gen_range(0..32)] as char);
        }
        let digits: Vec<u8> = s.bytes().filter_map(value_of).collect();
        s.push(ALPHABET[check_value(&digits) as usize] as char);
        CardCode(Zeroizing::new(s))
    }

    /// Parses what a reporter typed: case, spaces and hyphens are ignored (ASCII and
    /// full-width), and the look-alikes O, I and L read as 0, 1 and 1.
    pub fn parse(input: &str) -> Result<CardCode, CardCodeError> {
        let mut s = Zeroizing::new(String::with_capacity(CODE_LEN));
        for c in input.chars() {
            let c = fold_full_width(c);
            if c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–' | '—' | '_' | '.' | '·')
            {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || value_of(c as u8).is_none() {
                return Err(CardCodeError::Character);
            }
            s.push(c);
            if s.len() > CODE_LEN {
                return Err(CardCodeError::Length);
            }
        }
        if s.is_empty() {
            return Err(CardCodeError::Empty);
        }
        if s.len() != CODE_LEN {
            return Err(CardCodeError::Length);
        }
        let digits: Vec<u8> = s.bytes().filter_map(value_of).collect();
        if !luhn_valid(&digits) {
            return Err(CardCodeError::Check);
        }
        Ok(CardCode(s))
    }

    /// The batch the code says it belongs to (`None` for the number 0, which no batch has).
    pub fn batch(&self) -> Option<BatchNumber> {
        let n = self
            .0
            .bytes()
            .take(BATCH_LEN)
            .filter_map(value_of)
            .fold(0i64, |n, d| n * 32 + i64::from(d));
        BatchNumber::new(n)
    }

    /// The normalized code, the input of the keyed hash.
    pub fn normalized(&self) -> &str {
        &self.0
    }

    /// The code as printed: `XXXX-XXXX-XXXX-XXXX-XXXX`.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(CODE_LEN + 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn value_of(b: u8) -> Option<u8> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u8)
}

/// Luhn mod N over base-32 values: catches every single substitution and most adjacent
/// transpositions.
fn check_value(digits: &[u8]) -> u8 {
    let mut factor = 2u32;
    let mut sum = 0u32;
    for &d in digits.iter().rev() {
        let addend = factor * d as u32;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / 32 + addend % 32;
    }
    ((32 - sum % 32) % 32) as u8
}

fn luhn_valid(digits: &[u8]) -> bool {
    let mut factor = 1u32;
    let mut sum = 0u32;
    for &d in digits.iter().rev() {
        let addend = factor * d as u32;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / 32 + addend % 32;
    }
    sum.is_multiple_of(32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    fn batch(n: i64) -> BatchNumber {
        BatchNumber::new(n).unwrap()
    }

    #[test]
    fn generated_codes_parse_back_in_any_spelling() {
        for _ in 0..200 {
            let code = CardCode::generate(batch(1), &mut OsRng);
            let grouped = code.grouped();
            assert_eq!(grouped.len(), 24);
            let messy = format!(" {} ", grouped.to_lowercase().replace('-', " - "));
            assert_eq!(
                CardCode::parse(&messy).unwrap().normalized(),
                code.normalized()
            );
        }
    }

    #[test]
    fn full_width_and_look_alikes_are_forgiven() {
        let code = CardCode::generate(batch(7), &mut OsRng);
        let full: String = code
            .grouped()
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert_eq!(
            CardCode::parse(&full).unwrap().normalized(),
            code.normalized()
        );
        let zero = code.normalized().replace('0', "o");
        assert_eq!(
            CardCode::parse(&zero).unwrap().normalized(),
            code.normalized()
        );
    }

    #[test]
    fn every_single_typo_is_caught() {
        let code = CardCode::generate(batch(7), &mut OsRng);
        let s = code.normalized().to_string();
        for i in 0..s.len() {
            for &b in ALPHABET {
                if b == s.as_bytes()[i] {
                    continue;
                }
                let mut t = s.clone().into_bytes();
                t[i] = b;
                let t = String::from_utf8(t).unwrap();
                assert_eq!(CardCode::parse(&t).err(), Some(CardCodeError::Check));
            }
        }
    }

    #[test]
    fn malformed_codes_say_why() {
        assert_eq!(CardCode::parse("  ").err(), Some(CardCodeError::Empty));
        assert_eq!(CardCode::parse("ABCD").err(), Some(CardCodeError::Length));
        assert_eq!(
            CardCode::parse("ABCD-EFGH-JKMN-PQRS-TVW!").err(),
            Some(CardCodeError::Character)
        );
        assert_eq!(
            CardCode::parse(&"A".repeat(500)).err(),
            Some(CardCodeError::Length)
        );
    }

    #[test]
    fn a_code_carries_its_batch_number() {
        for n in [1, 2, 31, 32, 1000, 32_767] {
            let code = CardCode::generate(batch(n), &mut OsRng);
            let typed = CardCode::parse(&code.grouped().to_lowercase()).unwrap();
            assert_eq!(typed.batch(), Some(batch(n)));
        }
        assert!(BatchNumber::new(0).is_none() && BatchNumber::new(32_768).is_none());
    }

    #[test]
    fn debug_hides_the_code() {
        let code = CardCode::generate(batch(7), &mut OsRng);
        assert_eq!(format!("{code:?}"), "CardCode(..)");
    }
}
