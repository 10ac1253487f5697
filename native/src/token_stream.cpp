#include "token_stream.h"

#include <chrono>

#include "common.h"
#include "context.h"

namespace lld {

Napi::Object GenerationObject(Napi::Env env, const Generation & g) {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array toks = Napi::Array::New(env, g.tokens.size());
    for (size_t i = 0; i < g.tokens.size(); i++) {
        toks.Set(static_cast<uint32_t>(i), Napi::Number::New(env, g.tokens[i]));
    }
    o.Set("tokens", toks);
    o.Set("text", Napi::String::New(env, g.text));
    o.Set("nPast", g.nPast);
    o.Set("stopReason", g.stopReason);
    o.Set("eogToken", g.eogToken == LLAMA_TOKEN_NULL ? env.Null() : Napi::Value(Napi::Number::New(env, g.eogToken)));
    o.Set("firstTokenMs", g.firstTokenMs);
    o.Set("totalMs", g.totalMs);
    o.Set("tokensPerSecond", g.totalMs > 0 ? static_cast<double>(g.tokens.size()) * 1000.0 / g.totalMs : 0.0);
    return o;
}

void StopAfterCallbackError(StreamState & st) {
    if (st.context != nullptr) {
        st.context->abortFlag.store(true);
    }
}

namespace {

void Settle(Napi::Env env, const std::shared_ptr<StreamState> & st) {
    if (st->settled || !st->workerDone || !st->tsfnDone) {
        return;
    }
    st->settled = true;
    Napi::HandleScope scope(env);
    st->contextRef.Reset();
    if (!st->callbackError.IsEmpty()) {
        st->deferred.Reject(st->callbackError.Value());
        st->callbackError.Reset();
        return;
    }
    if (st->failed) {
        st->deferred.Reject(MakeError(env, st->errCode, st->errMessage).Value());
        return;
    }
    st->deferred.Resolve(st->Result(env));
}

}  // namespace

Napi::ThreadSafeFunction StartStream(Napi::Env env, const std::shared_ptr<StreamState> & st, Napi::Value contextValue,
                                     Context * context, Napi::Value onTokens, const char * name) {
    context->Acquire(env);  // throws CONTEXT_BUSY; clears the abort flag
    st->context = context;
    st->contextRef = Napi::Persistent(contextValue.As<Napi::Object>());
    if (!onTokens.IsFunction()) {
        return Napi::ThreadSafeFunction();
    }
    st->tsfnDone = false;
    return Napi::ThreadSafeFunction::New(env, onTokens.As<Napi::Function>(), name, 0, 1, [st](Napi::Env fenv) {
        st->tsfnDone = true;
        Settle(fenv, st);
    });
}

StreamWorker::StreamWorker(Napi::Env env, const char * name, std::shared_ptr<StreamState> st,
                           Napi::ThreadSafeFunction tsfn)
    : Napi::AsyncWorker(env, name), st_(std::move(st)), tsfn_(std::move(tsfn)), hasTsfn_(!st_->tsfnDone) {}

void StreamWorker::Execute() {
    try {
        Run();
    } catch (const NativeError & e) {
        st_->failed = true;
        st_->errCode = e.errCode;
        st_->errMessage = e.message;
    } catch (const std::exception & e) {
        st_->failed = true;
        st_->errCode = code::kNative;
        st_->errMessage = e.what();
    }
    if (hasTsfn_) {
        tsfn_.Release();  // queued calls still run; the finalizer settles the promise
    }
}

void StreamWorker::OnOK() {
    st_->context->Release();
    st_->workerDone = true;
    Settle(Env(), st_);
}

void StreamWorker::OnError(const Napi::Error &) { OnOK(); }

bool StreamWorker::Aborted() const { return st_->context->abortFlag.load(); }

void StreamWorker::WaitDelivered() {
    std::unique_lock<std::mutex> lock(st_->deliveredMutex);
    while (st_->delivered < emitted_ && !Aborted()) {
        st_->deliveredCv.wait_for(lock, std::chrono::milliseconds(50));
    }
}

}  // namespace lld
