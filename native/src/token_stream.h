#pragma once
// The plumbing generate() and generateMany() share. A worker produces tokens on a libuv thread and
// hands them to an optional JS callback through a ThreadSafeFunction, waiting until JS has run it
// (so an abort from the callback takes effect before the next token). The promise settles only
// once both the worker and the ThreadSafeFunction are done, so no callback ever runs after it.

#include "llama.h"
#include <napi.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lld {

class Context;

/** What one sequence produced: the fields of a GenerateResult. */
struct Generation {
    std::vector<llama_token> tokens;
    std::string text;
    llama_pos nPast = 0;
    std::string stopReason;
    llama_token eogToken = LLAMA_TOKEN_NULL;
    double firstTokenMs = 0;
    double totalMs = 0;
};

/** `{tokens, text, nPast, stopReason, eogToken, firstTokenMs, totalMs, tokensPerSecond}`. */
Napi::Object GenerationObject(Napi::Env env, const Generation & g);

/** A running generation's promise, its context and its outcome. */
struct StreamState {
    explicit StreamState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
    virtual ~StreamState() = default;
    /** The value the promise resolves with, built on the JS thread after the worker succeeded. */
    virtual Napi::Value Result(Napi::Env env) = 0;

    Napi::Promise::Deferred deferred;
    Napi::ObjectReference contextRef;
    Context * context = nullptr;
    bool workerDone = false;
    bool tsfnDone = true;
    bool settled = false;
    bool failed = false;
    std::string errCode;
    std::string errMessage;
    Napi::Reference<Napi::Value> callbackError;
    std::mutex deliveredMutex;
    std::condition_variable deliveredCv;
    uint64_t delivered = 0;
};

/** After a callback threw: stops the run before its next token (the promise rejects with the error). */
void StopAfterCallbackError(StreamState & st);

/**
 * Marks the context busy (CONTEXT_BUSY otherwise; clears its abort flag), keeps it alive for the
 * run and, when `onTokens` is a function, makes the ThreadSafeFunction that calls it; the
 * ThreadSafeFunction's finalizer settles the promise if the worker finished first.
 */
Napi::ThreadSafeFunction StartStream(Napi::Env env, const std::shared_ptr<StreamState> & st, Napi::Value contextValue,
                                     Context * context, Napi::Value onTokens, const char * name);

/** Runs Run() on the thread pool; the promise settles with the state's Result() or the failure. */
class StreamWorker : public Napi::AsyncWorker {
  public:
    StreamWorker(Napi::Env env, const char * name, std::shared_ptr<StreamState> st, Napi::ThreadSafeFunction tsfn);

    void Execute() final;
    void OnOK() final;
    void OnError(const Napi::Error &) final;

  protected:
    virtual void Run() = 0;

    bool Aborted() const;

    /**
     * Hands `data` to the JS callback (`toArgs` builds its arguments on the JS thread) and waits
     * until it has run. Waits are bounded: never hang on a JS thread that is shutting down.
     */
    template <typename T> void Deliver(std::unique_ptr<T> data, std::vector<napi_value> (*toArgs)(Napi::Env, const T &));

    std::shared_ptr<StreamState> st_;

  private:
    void WaitDelivered();

    Napi::ThreadSafeFunction tsfn_;
    bool hasTsfn_;
    uint64_t emitted_ = 0;
};

template <typename T>
void StreamWorker::Deliver(std::unique_ptr<T> data, std::vector<napi_value> (*toArgs)(Napi::Env, const T &)) {
    if (!hasTsfn_) {
        return;
    }
    auto st = st_;
    T * raw = data.release();
    napi_status s = tsfn_.BlockingCall(raw, [st, toArgs](Napi::Env env, Napi::Function cb, T * d) {
        std::unique_ptr<T> owned(d);
        if (env != nullptr && !cb.IsEmpty() && st->callbackError.IsEmpty()) {
            try {
                cb.Call(toArgs(env, *owned));
            } catch (const Napi::Error & e) {
                st->callbackError = Napi::Reference<Napi::Value>::New(e.Value(), 1);
                StopAfterCallbackError(*st);
            }
        }
        std::lock_guard<std::mutex> lock(st->deliveredMutex);
        st->delivered += 1;
        st->deliveredCv.notify_all();
    });
    if (s != napi_ok) {
        delete raw;
        return;
    }
    emitted_ += 1;
    WaitDelivered();
}

}  // namespace lld
