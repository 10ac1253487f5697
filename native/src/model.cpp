#include "model.h"

#include <vector>

#include "common.h"

namespace lld {

namespace {

struct LoadArgs {
    std::string path;
    int32_t nGpuLayers;
    bool useMmap;
    bool useMlock;
    bool vocabOnly;
};

class LoadModelWorker : public PromiseWorker {
  public:
    LoadModelWorker(Napi::Env env, LoadArgs args) : PromiseWorker(env, "llava_desk.loadModel"), args_(std::move(args)) {}

    ~LoadModelWorker() override {
        if (model_ != nullptr) {  // result never handed to JS
            llama_model_free(model_);
        }
    }

  protected:
    void Run() override {
        ValidateGguf(args_.path, code::kModelLoadFailed, "model");
        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = args_.nGpuLayers;
        if (!args_.useMmap) {
            params.load_mode = args_.useMlock ? LLAMA_LOAD_MODE_MLOCK : LLAMA_LOAD_MODE_NONE;
        } else if (args_.useMlock) {
            params.load_mode = LLAMA_LOAD_MODE_MMAP_MLOCK;
        }  // else keep the default (auto: mmap where supported)
        params.vocab_only = args_.vocabOnly;
        model_ = llama_model_load_from_file(args_.path.c_str(), params);
        if (model_ == nullptr) {
            throw NativeError(code::kModelLoadFailed,
                              "llama.cpp could not load the model (unsupported architecture or invalid data): " + args_.path);
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = Data(env).modelCtor.New({InternalConstructArg(env)});
        Model * m = Model::Unwrap(obj);
        m->handle = std::make_shared<ModelHandle>(model_);
        m->model = model_;
        m->vocab = llama_model_get_vocab(model_);
        m->path = args_.path;
        model_ = nullptr;
        return obj;
    }

  private:
    LoadArgs args_;
    llama_model * model_ = nullptr;
};

std::string TokenPiece(const llama_vocab * vocab, llama_token token, bool special) {
    std::string out(32, '\0');
    int32_t n = llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0, special);
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0, special);
    }
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
}

}  // namespace

void Model::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Model",
                                      {
                                          InstanceMethod("getInfo", &Model::GetInfo),
                                          InstanceMethod("tokenize", &Model::Tokenize),
                                          InstanceMethod("detokenize", &Model::Detokenize),
                                          InstanceMethod("tokenToPiece", &Model::TokenToPiece),
                                          InstanceMethod("isEog", &Model::IsEog),
                                          InstanceMethod("dispose", &Model::Dispose),
                                          InstanceAccessor("disposed", &Model::GetDisposed, nullptr),
                                      });
    Data(env).modelCtor = Napi::Persistent(ctor);
    exports.Set("Model", ctor);
    exports.Set("loadModel", Napi::Function::New(env, &Model::Load, "loadModel"));
}

Model::Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
    if (!IsInternalConstruct(info)) {
        Throw(info.Env(), code::kInvalidArgument, "Model cannot be constructed directly; use loadModel()");
    }
}

Model::~Model() { Free(); }

void Model::Free() {
    handle.reset();  // frees the model unless a context / mtmd still shares it
    model = nullptr;
    vocab = nullptr;
}

Model * Model::FromValue(Napi::Env env, const Napi::Value & v, const char * what) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).modelCtor.Value())) {
        Throw(env, code::kInvalidArgument, std::string(what) + " must be a Model");
    }
    Model * m = Model::Unwrap(v.As<Napi::Object>());
    m->EnsureAlive(env);
    return m;
}

void Model::EnsureAlive(Napi::Env env) const {
    if (model == nullptr) {
        Throw(env, code::kDisposed, "the model has been disposed");
    }
}

Napi::Value Model::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        LoadArgs args;
        args.path = ArgString(info, 0, "path");
        Napi::Object opts = OptObject(info, 1);
        args.nGpuLayers = OptInt(opts, "nGpuLayers", llama_model_default_params().n_gpu_layers);
        args.useMmap = OptBool(opts, "useMmap", true);
        args.useMlock = OptBool(opts, "useMlock", false);
        args.vocabOnly = OptBool(opts, "vocabOnly", false);
        auto * worker = new LoadModelWorker(env, std::move(args));
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

Napi::Value Model::GetInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("nEmbd", llama_model_n_embd(model));
    o.Set("nEmbdInp", llama_model_n_embd_inp(model));
    o.Set("nCtxTrain", llama_model_n_ctx_train(model));
    o.Set("nVocab", llama_vocab_n_tokens(vocab));
    o.Set("nParams", static_cast<double>(llama_model_n_params(model)));
    o.Set("sizeBytes", static_cast<double>(llama_model_size(model)));
    o.Set("bos", llama_vocab_bos(vocab));
    o.Set("eos", llama_vocab_eos(vocab));
    o.Set("eot", llama_vocab_eot(vocab));
    o.Set("addBos", llama_vocab_get_add_bos(vocab));
    const char * tmpl = llama_model_chat_template(model, nullptr);
    o.Set("chatTemplate", tmpl != nullptr ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());
    char desc[256];
    int32_t n = llama_model_desc(model, desc, sizeof(desc));
    o.Set("description", Napi::String::New(env, n > 0 ? std::string(desc) : std::string()));
    char arch[128];
    n = llama_model_meta_val_str(model, "general.architecture", arch, sizeof(arch));
    o.Set("architecture", Napi::String::New(env, n > 0 ? std::string(arch) : std::string()));
    o.Set("path", Napi::String::New(env, path));
    return o;
}

// tokenize(text, addSpecial = false, parseSpecial = true): number[]
Napi::Value Model::Tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    std::string text = ArgString(info, 0, "text");
    bool addSpecial = info.Length() > 1 && info[1].IsBoolean() ? info[1].As<Napi::Boolean>().Value() : false;
    bool parseSpecial = info.Length() > 2 && info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : true;
    std::vector<llama_token> tokens(text.size() + 8);
    int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                               static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
    if (n < 0) {
        if (n == INT32_MIN) {
            Throw(env, code::kTokenizeFailed, "tokenization overflow");
        }
        tokens.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                           static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
        if (n < 0) {
            Throw(env, code::kTokenizeFailed, "tokenization failed");
        }
    }
    Napi::Array arr = Napi::Array::New(env, static_cast<size_t>(n));
    for (int32_t i = 0; i < n; i++) {
        arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, tokens[static_cast<size_t>(i)]));
    }
    return arr;
}

static std::vector<llama_token> ReadTokens(Napi::Env env, const Napi::Value & v, const llama_vocab * vocab) {
    if (!v.IsArray()) {
        Throw(env, code::kInvalidArgument, "tokens must be an array of numbers");
    }
    Napi::Array arr = v.As<Napi::Array>();
    const int32_t nVocab = llama_vocab_n_tokens(vocab);
    std::vector<llama_token> out(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value t = arr.Get(i);
        if (!t.IsNumber()) {
            Throw(env, code::kInvalidArgument, "tokens must be an array of numbers");
        }
        int32_t id = t.As<Napi::Number>().Int32Value();
        if (id < 0 || id >= nVocab) {
            Throw(env, code::kInvalidArgument, "token id out of range: " + std::to_string(id));
        }
        out[i] = id;
    }
    return out;
}

// detokenize(tokens, removeSpecial = false, unparseSpecial = true): string
Napi::Value Model::Detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    std::vector<llama_token> tokens = ReadTokens(env, info.Length() > 0 ? info[0] : env.Undefined(), vocab);
    bool removeSpecial = info.Length() > 1 && info[1].IsBoolean() ? info[1].As<Napi::Boolean>().Value() : false;
    bool unparseSpecial = info.Length() > 2 && info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : true;
    std::string text(tokens.size() * 8 + 16, '\0');
    int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                                 static_cast<int32_t>(text.size()), removeSpecial, unparseSpecial);
    if (n < 0) {
        text.resize(static_cast<size_t>(-n));
        n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                             static_cast<int32_t>(text.size()), removeSpecial, unparseSpecial);
    }
    text.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return Napi::String::New(env, text);
}

// tokenToPiece(token, special = true): string
Napi::Value Model::TokenToPiece(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    int32_t token = ArgInt(info, 0, "token");
    if (token < 0 || token >= llama_vocab_n_tokens(vocab)) {
        Throw(env, code::kInvalidArgument, "token id out of range");
    }
    bool special = info.Length() > 1 && info[1].IsBoolean() ? info[1].As<Napi::Boolean>().Value() : true;
    return Napi::String::New(env, TokenPiece(vocab, token, special));
}

Napi::Value Model::IsEog(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    int32_t token = ArgInt(info, 0, "token");
    return Napi::Boolean::New(env, llama_vocab_is_eog(vocab, token));
}

Napi::Value Model::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (model == nullptr) {
        return env.Undefined();
    }
    if (handle.use_count() > 1) {
        Throw(env, code::kInUse, "the model still has live contexts or mmproj contexts; dispose them first");
    }
    Free();
    return env.Undefined();
}

Napi::Value Model::GetDisposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), model == nullptr); }

}  // namespace lld
