#include "bitmap.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"

namespace lld {

namespace {

// Fast, non-cryptographic 64-bit content hash (used as the default bitmap id for the embedding cache).
uint64_t HashBytes(const uint8_t * data, size_t len) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0xCBF29CE484222325ull ^ (len * k);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, data + i, 8);
        h ^= w;
        h *= k;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h ^= data[i];
        h *= 0x100000001B3ull;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

}  // namespace

void Bitmap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Bitmap",
                                      {
                                          InstanceAccessor("width", &Bitmap::GetWidth, nullptr),
                                          InstanceAccessor("height", &Bitmap::GetHeight, nullptr),
                                          InstanceAccessor("id", &Bitmap::GetId, nullptr),
                                          InstanceAccessor("disposed", &Bitmap::GetDisposed, nullptr),
                                          InstanceMethod("dispose", &Bitmap::Dispose),
                                      });
    Data(env).bitmapCtor = Napi::Persistent(ctor);
    exports.Set("Bitmap", ctor);
    exports.Set("createBitmap", Napi::Function::New(env, &Bitmap::Create, "createBitmap"));
}

Bitmap::Bitmap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Bitmap>(info) {
    if (!IsInternalConstruct(info)) {
        Throw(info.Env(), code::kInvalidArgument, "Bitmap cannot be constructed directly; use createBitmap()");
    }
}

Bitmap::~Bitmap() {
    if (bitmap != nullptr) {
        mtmd_bitmap_free(bitmap);
        bitmap = nullptr;
    }
}

Napi::Value Bitmap::Create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    int32_t w = ArgInt(info, 0, "width");
    int32_t h = ArgInt(info, 1, "height");
    if (w <= 0 || h <= 0 || w > 32768 || h > 32768) {
        Throw(env, code::kInvalidArgument, "width and height must be in [1, 32768]");
    }
    if (info.Length() < 3 || !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        Throw(env, code::kInvalidArgument, "rgb must be a Buffer or Uint8Array of width*height*3 bytes");
    }
    Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
    const size_t expected = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;
    if (data.ByteLength() != expected) {
        Throw(env, code::kInvalidArgument, "rgb has " + std::to_string(data.ByteLength()) + " bytes, expected " +
                                               std::to_string(expected) + " (width*height*3, packed RGB)");
    }
    std::string id;
    if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
        if (!info[3].IsString()) {
            Throw(env, code::kInvalidArgument, "id must be a string");
        }
        id = info[3].As<Napi::String>().Utf8Value();
    } else {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "rgb:%dx%d:%016llx", w, h,
                      static_cast<unsigned long long>(HashBytes(data.Data(), data.ByteLength())));
        id = buf;
    }
    mtmd_bitmap * bm = mtmd_bitmap_init(static_cast<uint32_t>(w), static_cast<uint32_t>(h), data.Data());
    if (bm == nullptr) {
        Throw(env, code::kImageFailed, "mtmd_bitmap_init failed");
    }
    if (!id.empty()) {
        mtmd_bitmap_set_id(bm, id.c_str());
    }
    Napi::Object obj = Data(env).bitmapCtor.New({InternalConstructArg(env)});
    Bitmap::Unwrap(obj)->bitmap = bm;
    return obj;
}

Bitmap * Bitmap::FromValue(Napi::Env env, const Napi::Value & v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).bitmapCtor.Value())) {
        Throw(env, code::kInvalidArgument, "bitmaps must be Bitmap objects from createBitmap()");
    }
    Bitmap * b = Bitmap::Unwrap(v.As<Napi::Object>());
    if (b->bitmap == nullptr) {
        Throw(env, code::kDisposed, "a bitmap has been disposed");
    }
    return b;
}

Napi::Value Bitmap::GetWidth(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), bitmap != nullptr ? mtmd_bitmap_get_nx(bitmap) : 0);
}

Napi::Value Bitmap::GetHeight(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), bitmap != nullptr ? mtmd_bitmap_get_ny(bitmap) : 0);
}

Napi::Value Bitmap::GetId(const Napi::CallbackInfo & info) {
    const char * id = bitmap != nullptr ? mtmd_bitmap_get_id(bitmap) : nullptr;
    return Napi::String::New(info.Env(), id != nullptr ? id : "");
}

Napi::Value Bitmap::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (inUse.load() > 0) {
        Throw(env, code::kInUse, "the bitmap is in use by a running evalPrompt");
    }
    if (bitmap != nullptr) {
        mtmd_bitmap_free(bitmap);
        bitmap = nullptr;
    }
    return env.Undefined();
}

Napi::Value Bitmap::GetDisposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), bitmap == nullptr); }

}  // namespace lld
