/// Keeps a plugin's code mapped for as long as an object made by that code lives.
#pragma once

#include <memory>
#include <utility>

namespace dray::core {

/// An object made by plugin code (a capture, a prepared container) held together with the
/// plugin object that made it. The registry's deleter of that plugin object owns its
/// library, so the library cannot be unloaded while this object's virtual functions and
/// destructor may still run (Boost.DLL's "unloading too early" misuse).
template <class T>
class PluginOwned {
 public:
  PluginOwned() = default;
  PluginOwned(std::unique_ptr<T> object, std::shared_ptr<const void> maker)
      : maker_(std::move(maker)), object_(std::move(object)) {}

  T* operator->() const { return object_.get(); }
  T& operator*() const { return *object_; }
  T* get() const { return object_.get(); }
  explicit operator bool() const { return object_ != nullptr; }

  /// Destroys the object first, then lets go of its maker.
  void reset() {
    object_.reset();
    maker_.reset();
  }

 private:
  std::shared_ptr<const void> maker_;  // declared first, destroyed last
  std::unique_ptr<T> object_;
};

}  // namespace dray::core
