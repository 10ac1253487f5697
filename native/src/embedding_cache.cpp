#include "embedding_cache.h"

namespace lld {

bool EmbeddingCache::Get(const std::string & id, size_t nTokens, std::vector<float> & out) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->id == id && it->nTokens == nTokens) {
            out = it->embd;
            entries_.splice(entries_.begin(), entries_, it);
            return true;
        }
    }
    return false;
}

void EmbeddingCache::Put(const std::string & id, size_t nTokens, const float * embd, size_t nFloats) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capacity_ == 0) {
        return;
    }
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->id == id) {
            entries_.erase(it);
            break;
        }
    }
    entries_.push_front({id, nTokens, std::vector<float>(embd, embd + nFloats)});
    while (entries_.size() > capacity_) {
        entries_.pop_back();
    }
}

void EmbeddingCache::Clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.clear();
}

void EmbeddingCache::SetCapacity(size_t entries) {
    std::lock_guard<std::mutex> lock(mutex_);
    capacity_ = entries;
    while (entries_.size() > capacity_) {
        entries_.pop_back();
    }
}

}  // namespace lld
