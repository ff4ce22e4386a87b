#include "server/gateway/http_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

namespace cairn::gateway {
namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool HttpConnection::Fill() {
  char chunk[16384];
  while (true) {
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool HttpConnection::Read(HttpRequest* request) {
  size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHeadBytes) {
      Respond(400, "text/plain", "request head too large", false);
      return false;
    }
    if (!Fill()) return false;
  }
  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  *request = HttpRequest{};
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    Respond(400, "text/plain", "malformed request line", false);
    return false;
  }
  request->method = request_line.substr(0, sp1);
  request->path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = request->path.find('?'); q != std::string::npos) request->path.resize(q);
  const std::string version = request_line.substr(sp2 + 1);
  while (line_end != std::string::npos) {
    const size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
    line_end = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    request->headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  if (version == "HTTP/1.1" && request->headers.count("host") == 0) {
    Respond(400, "text/plain", "missing required Host header", false);  // RFC 7230 5.4, as Go's server
    return false;
  }
  const auto connection = request->headers.find("connection");
  const std::string conn = connection == request->headers.end() ? "" : Lower(connection->second);
  request->keep_alive = version == "HTTP/1.0" ? conn == "keep-alive" : conn != "close";
  if (request->headers.count("transfer-encoding") != 0) {
    Respond(411, "text/plain", "chunked request bodies are not supported; send Content-Length", false);
    return false;
  }
  size_t length = 0;
  if (auto it = request->headers.find("content-length"); it != request->headers.end()) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0') {
      Respond(400, "text/plain", "malformed Content-Length", false);
      return false;
    }
    if (n > max_body_bytes_) {
      Respond(413, "text/plain", "request body too large", false);
      return false;
    }
    length = static_cast<size_t>(n);
  }
  while (buffer_.size() < length) {
    if (!Fill()) return false;
  }
  request->body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return true;
}

bool HttpConnection::WriteAll(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpConnection::Respond(int status, std::string_view content_type, std::string_view body, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\nContent-Type: ";
  out.append(content_type);
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out.append(body);
  return WriteAll(out);
}

bool HttpConnection::StartChunked(int status, std::string_view content_type) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\nContent-Type: ";
  out.append(content_type);
  out += "\r\nTransfer-Encoding: chunked\r\n\r\n";
  return WriteAll(out);
}

bool HttpConnection::Chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the body
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out += "\r\n";
  return WriteAll(out);
}

bool HttpConnection::EndChunked() { return WriteAll("0\r\n\r\n"); }

bool HttpConnection::PeerClosed() const {
  pollfd p{fd_, POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace cairn::gateway
