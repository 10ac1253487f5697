#include "eval_prompt_worker.h"

#include <mutex>

#include "mtmd-helper.h"
#include "mtmd_context.h"
#include "sampling.h"

namespace lld {

EvalPromptWorker::EvalPromptWorker(Napi::Env env, EvalPromptTargets targets, EvalPromptArgs args)
    : PromiseWorker(env, "llava_desk.evalPrompt"),
      mtmd_(targets.mtmd),
      context_(targets.context),
      bitmaps_(std::move(targets.bitmaps)),
      bitmapRefs_(std::move(targets.bitmapRefs)),
      args_(std::move(args)) {
    mtmdRef_ = Napi::Persistent(targets.mtmdObj);
    contextRef_ = Napi::Persistent(targets.contextObj);
}

void EvalPromptWorker::Run() {
    const double tStart = NowMs();
    llama_context * lctx = context_->ctx;
    mtmd::input_chunks chunks(mtmd_input_chunks_init());
    mtmd_input_text txt{args_.text.c_str(), args_.text.size(), args_.addSpecial, args_.parseSpecial};
    std::vector<const mtmd_bitmap *> bms;
    bms.reserve(bitmaps_.size());
    for (Bitmap * b : bitmaps_) {
        bms.push_back(b->bitmap);
    }
    TakeLastMtmdError();
    int32_t r = mtmd_tokenize(mtmd_->ctx, chunks.ptr.get(), &txt, bms.data(), bms.size());
    if (r == 1) {
        // Mtmd::EvalPrompt counted the markers against the bitmaps before queueing this worker;
        // mtmd's own count disagreeing is not expected, but stays a typed error.
        throw NativeError(code::kInvalidArgument, "mtmd_tokenize found a different number of media markers than the " +
                                                      std::to_string(bms.size()) + " bitmap(s) given");
    }
    if (r == 2) {
        std::string detail = TakeLastMtmdError();
        throw NativeError(code::kImageFailed, "image preprocessing failed" + (detail.empty() ? "" : ": " + detail));
    }
    if (r != 0) {
        throw NativeError(code::kTokenizeFailed, "mtmd_tokenize failed with code " + std::to_string(r));
    }

    const size_t nChunks = chunks.size();
    const llama_pos nPos = mtmd_helper_get_n_pos(chunks.ptr.get());
    const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
    if (static_cast<int64_t>(args_.nPast) + nPos > static_cast<int64_t>(nCtxSeq)) {
        throw NativeError(code::kContextFull, "the prompt needs " + std::to_string(nPos) + " positions after nPast=" +
                                                  std::to_string(args_.nPast) + " but the context holds " +
                                                  std::to_string(nCtxSeq) + " per sequence");
    }

    llama_pos nPast = args_.nPast;
    try {
        for (size_t i = 0; i < nChunks; i++) {
            if (context_->abortFlag.load()) {
                throw NativeError(code::kAborted, "evalPrompt was aborted");
            }
            const mtmd_input_chunk * chunk = chunks[i];
            const bool isLast = i + 1 == nChunks;
            const auto type = mtmd_input_chunk_get_type(chunk);
            const size_t nTok = mtmd_input_chunk_get_n_tokens(chunk);
            llama_pos newNPast = nPast;
            if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                const double t0 = NowMs();
                int32_t ret = mtmd_helper_eval_chunk_single(mtmd_->ctx, lctx, chunk, nPast, args_.seqId, args_.nBatch,
                                                            isLast && args_.logitsLast, &newNPast);
                decodeMs_ += NowMs() - t0;
                CheckDecode(ret, "text");
                textTokens_ += nTok;
                stats_.push_back({"text", nTok, std::string(), false});
            } else {
                const char * cid = mtmd_input_chunk_get_id(chunk);
                const std::string id = cid != nullptr ? cid : "";
                std::vector<float> embd;
                bool cached = !id.empty() && mtmd_->cache.Get(id, nTok, embd);
                if (!cached) {
                    const size_t nFloats = static_cast<size_t>(mtmd_->nEmbdInp) * nTok;
                    std::lock_guard<std::mutex> lock(mtmd_->encodeMutex);
                    const double t0 = NowMs();
                    TakeLastMtmdError();
                    int32_t ret = mtmd_encode_chunk(mtmd_->ctx, chunk);
                    encodeMs_ += NowMs() - t0;
                    if (ret != 0) {
                        std::string detail = TakeLastMtmdError();
                        throw NativeError(code::kEncodeFailed,
                                          "image encoding failed" + (detail.empty() ? "" : ": " + detail));
                    }
                    const float * out = mtmd_get_output_embd(mtmd_->ctx);
                    embd.assign(out, out + nFloats);
                    if (!id.empty()) {
                        mtmd_->cache.Put(id, nTok, embd.data(), embd.size());
                    }
                } else {
                    cachedImages_++;
                }
                const double t0 = NowMs();
                int32_t ret = mtmd_helper_decode_image_chunk(mtmd_->ctx, lctx, chunk, embd.data(), nPast, args_.seqId,
                                                             args_.nBatch, &newNPast, nullptr, nullptr);
                decodeMs_ += NowMs() - t0;
                CheckDecode(ret, "image");
                imageTokens_ += nTok;
                stats_.push_back({type == MTMD_INPUT_CHUNK_TYPE_AUDIO ? "audio" : "image", nTok, id, cached});
                if (isLast && args_.logitsLast) {
                    logitsReady_ = false;  // media chunks produce no logits
                }
            }
            nPast = newNPast;
        }
    } catch (...) {
        // roll the sequence back to where it was so the caller's nPast stays valid
        llama_memory_seq_rm(llama_get_memory(lctx), args_.seqId, args_.nPast, -1);
        throw;
    }
    newNPast_ = nPast;
    if (!args_.logitsLast) {
        logitsReady_ = false;
    }
    totalMs_ = NowMs() - tStart;
}

void EvalPromptWorker::Finish() {
    context_->Release();
    mtmd_->running--;
    for (Bitmap * b : bitmaps_) {
        b->inUse--;
    }
}

Napi::Value EvalPromptWorker::Result(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("nPast", newNPast_);
    o.Set("textTokens", static_cast<double>(textTokens_));
    o.Set("imageTokens", static_cast<double>(imageTokens_));
    o.Set("encodeMs", encodeMs_);
    o.Set("decodeMs", decodeMs_);
    o.Set("totalMs", totalMs_);
    o.Set("cachedImages", cachedImages_);
    o.Set("logitsReady", logitsReady_);
    Napi::Array chunks = Napi::Array::New(env, stats_.size());
    for (size_t i = 0; i < stats_.size(); i++) {
        Napi::Object c = Napi::Object::New(env);
        c.Set("type", stats_[i].type);
        c.Set("nTokens", static_cast<double>(stats_[i].nTokens));
        if (!stats_[i].id.empty()) {
            c.Set("id", stats_[i].id);
        }
        c.Set("cached", stats_[i].cached);
        chunks.Set(static_cast<uint32_t>(i), c);
    }
    o.Set("chunks", chunks);
    return o;
}

void EvalPromptWorker::CheckDecode(int32_t ret, const char * what) {
    if (ret == 0) {
        return;
    }
    if (ret == 2 || context_->abortFlag.load()) {
        throw NativeError(code::kAborted, "evalPrompt was aborted");
    }
    if (ret == 1) {
        throw NativeError(code::kContextFull, std::string("no KV cache slot for the ") + what + " tokens (context full)");
    }
    throw NativeError(code::kDecodeFailed, std::string("llama_decode failed for ") + what + " tokens (code " +
                                               std::to_string(ret) + ")");
}

}  // namespace lld
