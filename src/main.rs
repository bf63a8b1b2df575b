fn main() {
    std::process::exit(rkubelet::cli::main(std::env::args().collect()));
}
