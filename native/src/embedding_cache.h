#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <vector>

namespace lld {

// Encoded image embeddings of one mtmd context, least recently used first out, keyed by chunk id
// (the bitmap id: a content hash unless given). Thread-safe: workers read and fill it.
class EmbeddingCache {
  public:
    // Copies the entry for `id` with `nTokens` rows into `out` and marks it most recently used.
    bool Get(const std::string & id, size_t nTokens, std::vector<float> & out);
    // Keeps a copy of `nFloats` floats for `id` (replacing an older entry of that id).
    void Put(const std::string & id, size_t nTokens, const float * embd, size_t nFloats);
    void Clear();
    // 0 keeps nothing.
    void SetCapacity(size_t entries);

  private:
    struct Entry {
        std::string id;
        size_t nTokens;
        std::vector<float> embd;
    };

    std::mutex mutex_;
    std::list<Entry> entries_;  // front = most recent
    size_t capacity_ = 4;
};

}  // namespace lld
