#include "encode_image_worker.h"

#include <cstring>
#include <mutex>

#include "mtmd-helper.h"
#include "mtmd_context.h"
#include "sampling.h"

namespace lld {

EncodeImageWorker::EncodeImageWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, Bitmap * bitmap, Napi::Object bitmapObj)
    : PromiseWorker(env, "llava_desk.encodeImage"), mtmd_(mtmd), bitmap_(bitmap) {
    mtmdRef_ = Napi::Persistent(mtmdObj);
    bitmapRef_ = Napi::Persistent(bitmapObj);
}

void EncodeImageWorker::Run() {
    const double tStart = NowMs();
    mtmd::input_chunks chunks(mtmd_input_chunks_init());
    const std::string marker = mtmd_get_marker(mtmd_->ctx);
    mtmd_input_text txt{marker.c_str(), marker.size(), false, true};
    const mtmd_bitmap * bms[] = {bitmap_->bitmap};
    TakeLastMtmdError();
    int32_t r = mtmd_tokenize(mtmd_->ctx, chunks.ptr.get(), &txt, bms, 1);
    if (r == 2) {
        std::string detail = TakeLastMtmdError();
        throw NativeError(code::kImageFailed, "image preprocessing failed" + (detail.empty() ? "" : ": " + detail));
    }
    if (r != 0) {
        throw NativeError(code::kTokenizeFailed, "mtmd_tokenize failed with code " + std::to_string(r));
    }
    const size_t width = static_cast<size_t>(mtmd_->nEmbdInp);
    for (size_t i = 0; i < chunks.size(); i++) {
        const mtmd_input_chunk * chunk = chunks[i];
        if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) {
            continue;
        }
        const size_t nTok = mtmd_input_chunk_get_n_tokens(chunk);
        std::lock_guard<std::mutex> lock(mtmd_->encodeMutex);
        TakeLastMtmdError();
        if (mtmd_encode_chunk(mtmd_->ctx, chunk) != 0) {
            std::string detail = TakeLastMtmdError();
            throw NativeError(code::kEncodeFailed, "image encoding failed" + (detail.empty() ? "" : ": " + detail));
        }
        const float * out = mtmd_get_output_embd(mtmd_->ctx);
        embd_.insert(embd_.end(), out, out + nTok * width);
        nTokens_ += nTok;
    }
    if (nTokens_ == 0) {
        throw NativeError(code::kImageFailed, "the bitmap produced no image tokens");
    }
    encodeMs_ = NowMs() - tStart;
}

void EncodeImageWorker::Finish() {
    mtmd_->running--;
    bitmap_->inUse--;
}

Napi::Value EncodeImageWorker::Result(Napi::Env env) {
    Napi::Float32Array data = Napi::Float32Array::New(env, embd_.size());
    std::memcpy(data.Data(), embd_.data(), embd_.size() * sizeof(float));
    Napi::Object o = Napi::Object::New(env);
    o.Set("nTokens", static_cast<double>(nTokens_));
    o.Set("nEmbd", mtmd_->nEmbdInp);
    o.Set("embeddings", data);
    o.Set("encodeMs", encodeMs_);
    return o;
}

}  // namespace lld
