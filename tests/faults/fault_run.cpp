// fault_run: a program run under a timeout and a memory limit, for the malformed-input cases. A program of its
// own, linked with nothing of the engine, so that it adds next to nothing to each case's time.
//
//   fault_run REPORT SECONDS MAX_RSS_MB [--signal-pending SIG] [--signal SIG@MS] [--hold-lock DIR] --
//             PROGRAM ARGS...
//
// Writes REPORT: "status N" (the exit status, 128 + the signal when one ended it), "max_rss_kb N" (the peak
// resident memory) and "timed_out 0|1" (killed at SECONDS). Outside the sanitizer build the program's address
// space is also capped, so that a runaway reader fails at once instead of exhausting the machine. SIG is TERM or
// INT. --signal-pending starts the program with SIG blocked and pending, so that it arrives as soon as the program
// unblocks it (train_lenet does first of all): a stop requested at the earliest moment, deterministically.
// --hold-lock takes DIR's output-folder lock, as a second writer would hold it, for the program's life.
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct RunOptions {
  fs::path report;
  double seconds = 10;
  long max_rss_mb = 0;
  int pending = 0;  // a signal pending at the start
  int timed = 0;    // a signal sent after `delay_ms`
  long delay_ms = 0;
  fs::path lock_dir;  // an output folder whose lock is held meanwhile
  std::vector<std::string> command;
};

int signal_named(const std::string& name) {
  if (name == "TERM") return SIGTERM;
  if (name == "INT") return SIGINT;
  throw std::runtime_error("unknown signal " + name + " (TERM or INT)");
}

RunOptions parse(const std::vector<std::string>& args) {
  if (args.size() < 5) throw std::runtime_error("usage: REPORT SECONDS MAX_RSS_MB [options] -- PROGRAM ARGS...");
  RunOptions o;
  o.report = args[1];
  o.seconds = std::stod(args[2]);
  o.max_rss_mb = std::stol(args[3]);
  std::size_t i = 4;
  for (; i < args.size() && args[i] != "--"; i += 2) {
    if (i + 1 >= args.size()) throw std::runtime_error("fault_run: " + args[i] + " needs a value");
    const std::string& value = args[i + 1];
    if (args[i] == "--signal-pending") {
      o.pending = signal_named(value);
    } else if (args[i] == "--signal") {
      o.timed = signal_named(value.substr(0, value.find('@')));
      o.delay_ms = std::stol(value.substr(value.find('@') + 1));
    } else if (args[i] == "--hold-lock") {
      o.lock_dir = value;
    } else {
      throw std::runtime_error("unknown option " + args[i]);
    }
  }
  o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(std::min(i + 1, args.size())), args.end());
  if (o.command.empty()) throw std::runtime_error("no program after --");
  return o;
}

// Takes the lock of output folder `dir` as another writer would (apps/train/output_folder.cpp); the descriptor
// stays open, and the lock held, until fault_run exits. Not inherited by the program run.
void hold_lock(const fs::path& dir) {
  fs::create_directories(dir);
  const int fd = ::open((dir / ".lenetgrad.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) throw std::runtime_error("cannot lock " + dir.string());
  const std::string holder = fmt::format("fault_run, process {}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::write(fd, holder.data(), holder.size()) < 0)
    throw std::runtime_error("cannot write the lock file of " + dir.string());
}

[[noreturn]] void exec_child(const RunOptions& o) {
  if (o.pending != 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, o.pending);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    ::raise(o.pending);  // pending, and kept pending across execve
  }
#ifndef LENETGRAD_SANITIZE
  // The sanitizers reserve terabytes of address space for their shadow memory; elsewhere the cap holds.
  const rlim_t cap = static_cast<rlim_t>(o.max_rss_mb) * 4 << 20;
  const rlimit limit{cap, cap};
  setrlimit(RLIMIT_AS, &limit);
#endif
  std::vector<char*> argv;
  for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::fprintf(stderr, "fault_run: cannot run %s: %s\n", argv[0], std::strerror(errno));
  std::_Exit(127);
}

// Runs the program as `o` says and writes the report.
void run(const RunOptions& o) {
  if (!o.lock_dir.empty()) hold_lock(o.lock_dir);
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) exec_child(o);
  const auto start = std::chrono::steady_clock::now();
  bool timed_out = false, signalled = false;
  int status = 0;
  rusage usage{};
  while (::wait4(child, &status, WNOHANG, &usage) == 0) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (o.timed != 0 && !signalled && ms.count() >= o.delay_ms) signalled = ::kill(child, o.timed) == 0;
    if (ms.count() > static_cast<long>(o.seconds * 1000)) {
      timed_out = true;
      ::kill(child, SIGKILL);
      ::wait4(child, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ofstream(o.report) << fmt::format("status {}\nmax_rss_kb {}\ntimed_out {}\n", code, usage.ru_maxrss,
                                         timed_out ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv, argv + argc);
    run(parse(args));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fault_run: %s\n", e.what());
    return 1;
  }
}
