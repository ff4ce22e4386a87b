#include "server/api/response_header.h"

namespace cairn::api {

void FillHeaderWithoutRevision(const etcdserver::EtcdServer& server, etcdserverpb::ResponseHeader* header) {
  header->set_cluster_id(server.cluster_id());
  header->set_member_id(server.member_id());
  header->set_raft_term(server.term());
}

void FillHeader(const etcdserver::EtcdServer& server, etcdserverpb::ResponseHeader* header) {
  FillHeaderWithoutRevision(server, header);
  if (header->revision() == 0) header->set_revision(server.CurrentRevision());
}

}  // namespace cairn::api
