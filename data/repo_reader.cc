#include "data/repo_reader.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "data/glob.h"
#include "data/internal/git.h"
#include "data/internal/text.h"

namespace tune::data {

using internal::GitError;

struct RepoReader::Impl {
  internal::RepositoryPtr repo;
  internal::OdbPtr odb;
};

namespace {

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), oid);
  return buf;
}

absl::StatusOr<git_oid> ParseOid(std::string_view hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a 40-digit object id", hex));
  }
  return oid;
}

// One `pattern attr...` line of a .gitattributes file, reduced to the linguist flags.
struct AttrRule {
  std::string dir;  // "" for the root file, else "a/b/" (with the trailing slash)
  std::string pattern;
  int generated = -1;  // -1 unspecified, 0 unset, 1 set
  int vendored = -1;
};

int AttrValue(std::string_view token, std::string_view name) {
  if (token == name || token == absl::StrFormat("%s=true", name)) return 1;
  if (token == absl::StrFormat("-%s", name) || token == absl::StrFormat("%s=false", name) ||
      token == absl::StrFormat("!%s", name)) {
    return 0;
  }
  return -1;
}

void ParseGitAttributes(std::string_view dir, std::string_view text, std::vector<AttrRule>& out) {
  for (std::string_view line : internal::SplitAny(text, "\r\n")) {
    std::vector<std::string_view> tokens = internal::SplitAny(line, " \t");
    if (tokens.empty() || tokens[0][0] == '#') continue;
    AttrRule rule{std::string(dir), std::string(tokens[0])};
    for (size_t i = 1; i < tokens.size(); ++i) {
      if (int v = AttrValue(tokens[i], "linguist-generated"); v >= 0) rule.generated = v;
      if (int v = AttrValue(tokens[i], "linguist-vendored"); v >= 0) rule.vendored = v;
    }
    if (rule.generated >= 0 || rule.vendored >= 0) out.push_back(std::move(rule));
  }
}

struct WalkState {
  git_odb* odb;
  std::vector<TreeFile> files;
  absl::Status status;
};

int WalkCallback(const char* root, const git_tree_entry* entry, void* payload) {
  auto* state = static_cast<WalkState*>(payload);
  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) return 0;
  TreeFile file;
  file.path = absl::StrFormat("%s%s", root, git_tree_entry_name(entry));
  const git_oid* oid = git_tree_entry_id(entry);
  file.blob_id = OidHex(oid);
  size_t size = 0;
  git_object_t type;
  if (git_odb_read_header(&size, &type, state->odb, oid) != 0) {
    state->status =
        GitError(absl::StatusCode::kDataLoss,
                 absl::StrFormat("cannot read object %s of '%s'", file.blob_id, file.path));
    return -1;
  }
  file.size = size;
  state->files.push_back(std::move(file));
  return 0;
}

absl::Status UnreadableBlob(std::string_view blob_id, const std::filesystem::path& repo) {
  return GitError(
      absl::StatusCode::kDataLoss,
      absl::StrFormat("cannot read blob %s from '%s'; hint: run `git fsck` on the repository",
                      blob_id, repo.string()));
}

absl::Status NotABlob(std::string_view blob_id) {
  return absl::DataLossError(absl::StrFormat("object %s is not a blob", blob_id));
}

}  // namespace

RepoReader::RepoReader(std::filesystem::path path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

// libgit2's global state is reference counted: Open() takes one reference per reader.
RepoReader::~RepoReader() {
  impl_.reset();
  git_libgit2_shutdown();
}

absl::StatusOr<std::unique_ptr<RepoReader>> RepoReader::Open(const std::filesystem::path& path) {
  git_libgit2_init();
  // Like git itself, do not re-hash every object read: zlib's checksum already catches a damaged
  // object (tested), and hashing was 5% of ingest's CPU time.
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
  auto impl = std::make_unique<Impl>();
  git_repository* repo = nullptr;
  // NO_SEARCH: `path` itself must be the repository, not any directory inside one.
  if (git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    absl::Status st = GitError(absl::StatusCode::kNotFound,
                               absl::StrFormat("'%s' is not a git repository", path.string()));
    git_libgit2_shutdown();
    return absl::NotFoundError(absl::StrFormat(
        "%s; hint: pass the root of a repository (bare or with a work tree)", st.message()));
  }
  impl->repo.reset(repo);
  git_odb* odb = nullptr;
  if (git_repository_odb(&odb, repo) != 0) {
    absl::Status st =
        GitError(absl::StatusCode::kDataLoss,
                 absl::StrFormat("cannot open the object database of '%s'", path.string()));
    impl.reset();
    git_libgit2_shutdown();
    return st;
  }
  impl->odb.reset(odb);
  return std::unique_ptr<RepoReader>(new RepoReader(path, std::move(impl)));
}

absl::StatusOr<std::string> RepoReader::ResolveCommit(std::string_view rev) {
  git_repository* repo = impl_->repo.get();
  if (git_repository_head_unborn(repo) == 1 || git_repository_is_empty(repo) == 1) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "repository '%s' has no commits; hint: commit something first", path_.string()));
  }
  git_object* obj = nullptr;
  std::string spec(rev);
  if (git_revparse_single(&obj, repo, spec.c_str()) != 0) {
    return GitError(absl::StatusCode::kInvalidArgument,
                    absl::StrFormat("cannot resolve rev '%s' in '%s'", rev, path_.string()));
  }
  internal::ObjectPtr object(obj);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) {
    return GitError(absl::StatusCode::kInvalidArgument,
                    absl::StrFormat("rev '%s' does not name a commit", rev));
  }
  internal::ObjectPtr commit(peeled);
  return OidHex(git_object_id(peeled));
}

namespace {

// The tree of a commit; `missing_commit` is the code when the commit cannot be read.
absl::StatusOr<internal::TreePtr> TreeOf(git_repository* repo, std::string_view commit_id,
                                         absl::StatusCode missing_commit) {
  TUNE_ASSIGN_OR_RETURN(git_oid oid, ParseOid(commit_id));
  git_commit* c = nullptr;
  if (git_commit_lookup(&c, repo, &oid) != 0) {
    return GitError(missing_commit, absl::StrFormat("cannot read commit %s", commit_id));
  }
  internal::CommitPtr commit(c);
  git_tree* t = nullptr;
  if (git_commit_tree(&t, c) != 0) {
    return GitError(absl::StatusCode::kDataLoss, absl::StrFormat("cannot read the tree of commit %s", commit_id));
  }
  return internal::TreePtr(t);
}

}  // namespace

absl::StatusOr<std::vector<TreeFile>> RepoReader::ListFiles(std::string_view commit_id) {
  TUNE_ASSIGN_OR_RETURN(internal::TreePtr tree, TreeOf(impl_->repo.get(), commit_id, absl::StatusCode::kDataLoss));
  WalkState state{impl_->odb.get(), {}, absl::OkStatus()};
  if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, WalkCallback, &state) != 0) {
    if (!state.status.ok()) return state.status;
    return GitError(absl::StatusCode::kDataLoss,
                    absl::StrFormat("cannot walk the tree of commit %s", commit_id));
  }
  std::sort(state.files.begin(), state.files.end(),
            [](const TreeFile& a, const TreeFile& b) { return a.path < b.path; });

  // .gitattributes of the same tree, shallowest first so deeper files override.
  std::vector<const TreeFile*> attr_files;
  for (const TreeFile& f : state.files) {
    if (f.path == ".gitattributes" || f.path.ends_with("/.gitattributes")) {
      attr_files.push_back(&f);
    }
  }
  std::stable_sort(attr_files.begin(), attr_files.end(), [](const TreeFile* a, const TreeFile* b) {
    return std::count(a->path.begin(), a->path.end(), '/') <
           std::count(b->path.begin(), b->path.end(), '/');
  });
  std::vector<AttrRule> rules;
  for (const TreeFile* f : attr_files) {
    TUNE_ASSIGN_OR_RETURN(std::string text, ReadBlob(f->blob_id));
    std::string_view dir = std::string_view(f->path).substr(0, f->path.size() - 14);
    ParseGitAttributes(dir, text, rules);
  }
  for (TreeFile& f : state.files) {
    for (const AttrRule& rule : rules) {
      if (!f.path.starts_with(rule.dir)) continue;
      if (!GitPatternMatch(rule.pattern, std::string_view(f.path).substr(rule.dir.size())))
        continue;
      if (rule.generated >= 0) f.attr_generated = rule.generated == 1;
      if (rule.vendored >= 0) f.attr_vendored = rule.vendored == 1;
    }
  }
  return std::move(state.files);
}

absl::StatusOr<std::vector<std::string>> RepoReader::RecentCommits(std::string_view commit_id,
                                                                   int64_t max_commits,
                                                                   int64_t since_unix) {
  TUNE_ASSIGN_OR_RETURN(git_oid oid, ParseOid(commit_id));
  git_revwalk* w = nullptr;
  if (git_revwalk_new(&w, impl_->repo.get()) != 0) {
    return GitError(absl::StatusCode::kInternal, "cannot start a history walk");
  }
  internal::RevwalkPtr walk(w);
  git_revwalk_sorting(w, GIT_SORT_TIME);
  if (git_revwalk_push(w, &oid) != 0) {
    return GitError(absl::StatusCode::kDataLoss, absl::StrFormat("cannot walk from %s", commit_id));
  }
  std::vector<std::string> out;
  git_oid next;
  while ((max_commits == 0 || static_cast<int64_t>(out.size()) < max_commits) &&
         git_revwalk_next(&next, w) == 0) {
    if (since_unix > 0) {
      git_commit* c = nullptr;
      if (git_commit_lookup(&c, impl_->repo.get(), &next) != 0) {
        return GitError(absl::StatusCode::kDataLoss,
                        absl::StrFormat("cannot read commit %s", OidHex(&next)));
      }
      internal::CommitPtr commit(c);
      if (git_commit_time(c) < since_unix) break;
    }
    out.push_back(OidHex(&next));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> RepoReader::ChangedPaths(std::string_view from_commit,
                                                                  std::string_view to_commit) {
  TUNE_ASSIGN_OR_RETURN(internal::TreePtr from, TreeOf(impl_->repo.get(), from_commit, absl::StatusCode::kInvalidArgument));
  TUNE_ASSIGN_OR_RETURN(internal::TreePtr to, TreeOf(impl_->repo.get(), to_commit, absl::StatusCode::kInvalidArgument));
  git_diff* d = nullptr;
  if (git_diff_tree_to_tree(&d, impl_->repo.get(), from.get(), to.get(), nullptr) != 0) {
    return GitError(absl::StatusCode::kDataLoss,
                    absl::StrFormat("cannot diff %s..%s", from_commit, to_commit));
  }
  internal::DiffPtr diff(d);
  std::vector<std::string> out;
  for (size_t i = 0; i < git_diff_num_deltas(d); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(d, i);
    if (delta->status == GIT_DELTA_DELETED) continue;
    out.emplace_back(delta->new_file.path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::string> RepoReader::ReadBlob(std::string_view blob_id) {
  TUNE_ASSIGN_OR_RETURN(git_oid oid, ParseOid(blob_id));
  git_odb_object* o = nullptr;
  if (git_odb_read(&o, impl_->odb.get(), &oid) != 0) return UnreadableBlob(blob_id, path_);
  internal::OdbObjectPtr object(o);
  if (git_odb_object_type(o) != GIT_OBJECT_BLOB) return NotABlob(blob_id);
  return std::string(static_cast<const char*>(git_odb_object_data(o)), git_odb_object_size(o));
}

absl::StatusOr<std::string> RepoReader::ReadBlobHead(std::string_view blob_id, size_t max_bytes) {
  TUNE_ASSIGN_OR_RETURN(git_oid oid, ParseOid(blob_id));
  git_odb_stream* stream = nullptr;
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  // Only the loose-object backend streams; for anything else read the whole blob.
  if (git_odb_open_rstream(&stream, &size, &type, impl_->odb.get(), &oid) != 0) {
    git_error_clear();
    TUNE_ASSIGN_OR_RETURN(std::string all, ReadBlob(blob_id));
    if (all.size() > max_bytes) all.resize(max_bytes);
    return all;
  }
  std::unique_ptr<git_odb_stream, void (*)(git_odb_stream*)> owned(stream, git_odb_stream_free);
  if (type != GIT_OBJECT_BLOB) return NotABlob(blob_id);
  std::string head(std::min(max_bytes, size), '\0');
  size_t filled = 0;
  while (filled < head.size()) {
    int n = git_odb_stream_read(stream, head.data() + filled, head.size() - filled);
    if (n < 0) return UnreadableBlob(blob_id, path_);
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  head.resize(filled);
  return head;
}

}  // namespace tune::data
