#include "core/secret_masker.hpp"

#include <algorithm>
#include <deque>

namespace dray::core {

SecretMasker::SecretMasker(const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    std::size_t begin = 0;
    while (begin <= secret.size()) {
      const auto newline = std::min(secret.find('\n', begin), secret.size());
      std::string_view piece(secret.data() + begin, newline - begin);
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      if (piece.size() >= kMinSecretLength) {
        add(piece);
      } else if (!piece.empty()) {
        whole_lines_.emplace(piece);
      }
      begin = newline + 1;
    }
  }
  link();
}

std::uint32_t SecretMasker::child(std::uint32_t node, unsigned char byte) const {
  const Node& n = nodes_[node];
  if (n.only != 0 && n.only_byte == byte) return n.only;
  auto it = std::lower_bound(n.more.begin(), n.more.end(), byte,
                             [](const auto& edge, unsigned char b) { return edge.first < b; });
  return it != n.more.end() && it->first == byte ? it->second : 0;
}

void SecretMasker::add(std::string_view secret) {
  std::uint32_t node = 0;
  for (char c : secret) {
    const auto byte = static_cast<unsigned char>(c);
    std::uint32_t next = child(node, byte);
    if (next == 0) {
      next = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();  // may move nodes_: index again below
      Node& parent = nodes_[node];
      if (parent.only == 0) {
        parent.only = next;
        parent.only_byte = byte;
      } else {
        auto it = std::lower_bound(parent.more.begin(), parent.more.end(), byte,
                                   [](const auto& edge, unsigned char b) { return edge.first < b; });
        parent.more.insert(it, {byte, next});
      }
    }
    node = next;
  }
  nodes_[node].longest = std::max<std::uint32_t>(nodes_[node].longest, static_cast<std::uint32_t>(secret.size()));
  longest_secret_ = std::max(longest_secret_, secret.size());
}

// Breadth first, so each node's fail target (a shorter suffix) is finished before it.
void SecretMasker::link() {
  for (unsigned b = 0; b < 256; ++b) root_next_[b] = child(0, static_cast<unsigned char>(b));
  std::deque<std::uint32_t> queue;
  auto visit = [&](std::uint32_t parent, unsigned char byte, std::uint32_t node) {
    const std::uint32_t fail = parent == 0 ? 0 : step(nodes_[parent].fail, byte);
    nodes_[node].fail = fail;
    nodes_[node].longest = std::max(nodes_[node].longest, nodes_[fail].longest);
    queue.push_back(node);
  };
  queue.push_back(0);
  while (!queue.empty()) {
    const std::uint32_t parent = queue.front();
    queue.pop_front();
    const Node& n = nodes_[parent];
    if (n.only != 0) visit(parent, n.only_byte, n.only);
    for (const auto& [byte, node] : nodes_[parent].more) visit(parent, byte, node);
  }
}

std::uint32_t SecretMasker::step(std::uint32_t node, unsigned char byte) const {
  while (node != 0) {
    if (std::uint32_t next = child(node, byte)) return next;
    node = nodes_[node].fail;
  }
  return root_next_[byte];
}

bool SecretMasker::maskInto(std::string_view line, std::string& out) const {
  // Short pieces of multi-line secrets: only a whole line is theirs (SSO: no allocation).
  if (line.size() < kMinSecretLength && !whole_lines_.empty() && whole_lines_.count(std::string(line))) {
    out.append(kSecretMask);
    return true;
  }
  // Reused per thread: a masked line costs no allocation once the buffer has grown.
  thread_local std::vector<Span> spans;
  spans.clear();
  std::uint32_t node = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    node = step(node, static_cast<unsigned char>(line[i]));
    const std::uint32_t length = nodes_[node].longest;
    if (length == 0) continue;
    Span span{i + 1 - length, i + 1};
    // Ends only grow; a new match may reach back over earlier ones: merge them.
    while (!spans.empty() && spans.back().end >= span.begin) {
      span.begin = std::min(span.begin, spans.back().begin);
      spans.pop_back();
    }
    spans.push_back(span);
  }
  if (spans.empty()) return false;
  std::size_t copied = 0;
  for (const Span& span : spans) {
    out.append(line.substr(copied, span.begin - copied));
    out.append(kSecretMask);
    copied = span.end;
  }
  out.append(line.substr(copied));
  return true;
}

std::size_t SecretMasker::safeCut(std::string_view text) const {
  if (longest_secret_ == 0) return text.size();
  std::size_t cut = text.size() > longest_secret_ - 1 ? text.size() - (longest_secret_ - 1) : 0;
  // Move the cut back to the start of any occurrence it falls into (earliest first wins,
  // since an occurrence starting earlier may also reach over the cut).
  std::uint32_t node = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    node = step(node, static_cast<unsigned char>(text[i]));
    const std::uint32_t length = nodes_[node].longest;
    if (length == 0) continue;
    const std::size_t begin = i + 1 - length;
    if (begin < cut && cut < i + 1) cut = begin;
  }
  return cut;
}

std::string SecretMasker::mask(std::string_view line) const {
  std::string out;
  if (!maskInto(line, out)) out.assign(line);
  return out;
}

}  // namespace dray::core
