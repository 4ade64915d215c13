//! Compile-time tests of the attributes: every mistake gives one clear
//! message (`tests/ui/fail`), and the accepted forms build and run
//! (`tests/ui/pass`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
