#include "server/transport/snapshot_file.h"

#include <unistd.h>

namespace cairn::transport {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }

void Sha256::Update(const std::string& data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

std::string Sha256::Digest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

SnapshotFileWriter::SnapshotFileWriter(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(path_.c_str());
  }
}

bool SnapshotFileWriter::Append(const std::string& data) {
  sha_.Update(data);
  return std::fwrite(data.data(), 1, data.size(), file_) == data.size();
}

Status SnapshotFileWriter::Finish(const std::string& expected_sha256) {
  if (expected_sha256.empty() || sha_.Digest() != expected_sha256) {
    return Status::DataLoss("snapshot " + path_ + " does not match the sender's checksum");
  }
  const bool durable = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!durable || !closed) {
    std::remove(path_.c_str());
    return Status::IoError("could not make snapshot " + path_ + " durable");
  }
  return Status::Ok();
}

}  // namespace cairn::transport
