//! Integration tests: the real binary on a random port with a temporary data dir.

mod helpers;

mod browser;
mod card_sheet;
mod cli;
mod console;
mod csv_safety;
mod desk;
mod districts;
mod durability;
mod export;
mod flooding;
mod forensics;
mod lists;
mod metadata;
mod pool;
mod poster;
mod race;
mod report_statuses;
mod schedule;
mod second_factor;
mod separation;
mod staff;
mod triage;
