// HttpConnection: just enough HTTP/1.1 for etcd's JSON gateway on one accepted socket:
// requests with a Content-Length body (or none), keep-alive, plain and chunked
// responses. Blocking I/O.
// Thread-safety: one thread per connection; PeerClosed() may be called from another.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace cairn::gateway {

struct HttpRequest {
  std::string method;
  std::string path;  // without the query string
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;
};

class HttpConnection {
 public:
  // `max_body_bytes`: larger bodies are answered 413 and end the connection.
  HttpConnection(int fd, size_t max_body_bytes) : fd_(fd), max_body_bytes_(max_body_bytes) {}

  // The next request; false at end of stream, or after answering a malformed one.
  bool Read(HttpRequest* request);
  bool Respond(int status, std::string_view content_type, std::string_view body, bool keep_alive);
  // A streamed response: the head, then each chunk as it comes, then the end.
  bool StartChunked(int status, std::string_view content_type);
  bool Chunk(std::string_view data);
  bool EndChunked();
  // Whether the client has closed or reset the connection (without blocking).
  bool PeerClosed() const;

 private:
  bool WriteAll(std::string_view data);
  // Reads more bytes into buffer_; false at EOF or error.
  bool Fill();

  const int fd_;
  const size_t max_body_bytes_;
  std::string buffer_;
};

const char* ReasonPhrase(int status);

}  // namespace cairn::gateway
