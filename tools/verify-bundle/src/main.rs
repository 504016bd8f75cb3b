fn main() {
    eprintln!("verify-bundle: not built yet");
    std::process::exit(2);
}
