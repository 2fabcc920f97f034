//! The wgpu side: one shared device, helpers for buffers and compute
//! pipelines, and async read-back that never blocks on the web.
//!
//! "Get a device" ([`Gpu::request`]) is split from "run a kernel on this
//! device" (the kernel modules), so tests inject a device and the app shares one.

pub mod certify;
pub mod diffusion;
pub mod guidance;
pub mod gumbel;
pub mod mlp;
pub mod rng;
pub mod robust;
pub mod saliency;
pub mod zo;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Why there is no GPU backend; shown to the reader verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuUnavailable(pub String);

impl std::fmt::Display for GpuUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GpuUnavailable {}

/// A failure while running a kernel on a device we already had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuError {
    /// The device was lost (driver reset, tab backgrounded too long, or forced).
    DeviceLost(String),
    /// A WGSL module or pipeline was rejected by the implementation.
    Pipeline(String),
    /// Mapping a buffer for read-back failed.
    ReadBack(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::DeviceLost(why) => write!(f, "GPU device lost: {why}"),
            GpuError::Pipeline(why) => write!(f, "GPU pipeline failed: {why}"),
            GpuError::ReadBack(why) => write!(f, "GPU read-back failed: {why}"),
        }
    }
}

impl std::error::Error for GpuError {}

/// What the page and the test logs say about the adapter in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
}

impl AdapterSummary {
    /// A software adapter: WebGPU's fallback adapter (wgpu reports the
    /// browser's `isFallbackAdapter` as a CPU device), or a CPU Vulkan such as lavapipe.
    pub fn is_software(&self) -> bool {
        self.device_type == format!("{:?}", wgpu::DeviceType::Cpu)
    }
}

/// One device and queue, shared by every kernel: a cheap handle (cloning it
/// shares the device), which also owns the device's compiled kernels, so a
/// run owns what it uses and the CLI, the tests and the page share one cache.
#[derive(Clone)]
pub struct Gpu(Arc<GpuDevice>);

impl std::ops::Deref for Gpu {
    type Target = GpuDevice;
    fn deref(&self) -> &GpuDevice {
        &self.0
    }
}

/// A compiled kernel in the cache (`Arc<K>` behind `Any`). wgpu's web types
/// are not `Send`, so the bound differs on wasm32.
#[cfg(target_arch = "wasm32")]
type AnyKernel = Box<dyn std::any::Any>;
#[cfg(not(target_arch = "wasm32"))]
type AnyKernel = Box<dyn std::any::Any + Send + Sync>;

/// A GPU kernel: compiled once per device by [`Gpu::kernel`], then shared.
pub trait Kernel: Sized + 'static + wgpu::WasmNotSendSync {
    /// Compiles the kernel's pipelines on `gpu`.
    fn compile(gpu: &Gpu) -> impl std::future::Future<Output = Result<Self, GpuError>>;
}

/// The device behind a [`Gpu`] handle.
pub struct GpuDevice {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: AdapterSummary,
    lost: Arc<AtomicBool>,
    lost_reason: Arc<Mutex<Option<String>>>,
    loss_hook: LossHook,
    /// Set by [`Gpu::force_shader_errors`]: every later shader fails to compile.
    broken_shaders: AtomicBool,
    /// Compiled kernels, one per type.
    kernels: Mutex<Vec<AnyKernel>>,
}

type LossHook = Arc<Mutex<Option<Box<dyn Fn(String) + Send>>>>;

impl Gpu {
    /// Asks for an adapter and a device. On the web, WebGPU must be present
    /// and grant an adapter (a software fallback adapter is accepted);
    /// natively, any adapter (lavapipe's Vulkan in CI; `WGPU_BACKEND` is honoured).
    pub async fn request() -> Result<Gpu, GpuUnavailable> {
        let instance = new_instance().await?;
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuUnavailable(format!("no GPU adapter was granted ({e})")))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("gradlab"),
                required_features: wgpu::Features::empty(),
                // The adapter's own storage limits, so a large Monte Carlo fits
                // wherever the hardware allows (ours stay under 16 MiB a buffer).
                required_limits: wgpu::Limits {
                    max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                    max_buffer_size: limits.max_buffer_size,
                    max_storage_buffers_per_shader_stage: limits
                        .max_storage_buffers_per_shader_stage,
                    ..wgpu::Limits::downlevel_defaults()
                },
                ..Default::default()
            })
            .await
            .map_err(|e| GpuUnavailable(format!("the GPU adapter refused a device ({e})")))?;

        let lost = Arc::new(AtomicBool::new(false));
        let lost_reason = Arc::new(Mutex::new(None));
        let loss_hook: LossHook = Arc::new(Mutex::new(None));
        {
            let lost = lost.clone();
            let lost_reason = lost_reason.clone();
            let loss_hook = loss_hook.clone();
            device.set_device_lost_callback(move |reason, message| {
                let why = format!("{reason:?}: {message}");
                lost.store(true, Ordering::SeqCst);
                if let Ok(mut r) = lost_reason.lock() {
                    *r = Some(why.clone());
                }
                if let Ok(hook) = loss_hook.lock()
                    && let Some(hook) = hook.as_ref()
                {
                    hook(why);
                }
            });
        }
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            // Errors we did not scope are bugs; report them instead of aborting the page.
            log_error(&format!("gradlab: uncaptured GPU error: {e}"));
        }));
        let adapter = AdapterSummary {
            name: match (info.name.is_empty(), info.device_type) {
                (false, _) => info.name.clone(),
                (true, wgpu::DeviceType::Cpu) => "software fallback adapter".to_string(),
                (true, _) => "unnamed adapter".to_string(),
            },
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
        };
        // wgpu's web types are not Send; the page is single-threaded, and
        // natively (where the handle crosses threads) the device is Send.
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(Gpu(Arc::new(GpuDevice {
            device,
            queue,
            adapter,
            lost,
            lost_reason,
            loss_hook,
            broken_shaders: AtomicBool::new(false),
            kernels: Mutex::new(Vec::new()),
        })))
    }

    /// The kernel `K` on this device, compiled on first use and shared after.
    pub async fn kernel<K: Kernel>(&self) -> Result<Arc<K>, GpuError> {
        let cached = |kernels: &Mutex<Vec<AnyKernel>>| {
            kernels.lock().ok().and_then(|k| {
                k.iter()
                    .find_map(|any| any.downcast_ref::<Arc<K>>().cloned())
            })
        };
        if let Some(k) = cached(&self.kernels) {
            return Ok(k);
        }
        let kernel = Arc::new(K::compile(self).await?);
        if let Ok(mut k) = self.kernels.lock() {
            k.push(Box::new(kernel.clone()));
        }
        Ok(kernel)
    }
}

impl GpuDevice {
    /// Calls `hook` with the reason when the device is lost (replacing any earlier hook).
    pub fn on_device_lost(&self, hook: impl Fn(String) + Send + 'static) {
        if let Ok(mut h) = self.loss_hook.lock() {
            *h = Some(Box::new(hook));
        }
    }

    /// True once the device has been lost; every later kernel call fails fast.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// `Err(DeviceLost)` once the device is gone; kernels call it before recording work.
    pub fn check_alive(&self) -> Result<(), GpuError> {
        if self.is_lost() {
            let why = self
                .lost_reason
                .lock()
                .ok()
                .and_then(|r| r.clone())
                .unwrap_or_else(|| "unknown reason".into());
            Err(GpuError::DeviceLost(why))
        } else {
            Ok(())
        }
    }

    /// Destroys the device: a debug hook to exercise the CPU fallback.
    pub fn force_device_loss(&self) {
        self.device.destroy();
        // `destroy` reports loss asynchronously on some backends; mark it now.
        self.lost.store(true, Ordering::SeqCst);
        if let Ok(mut r) = self.lost_reason.lock() {
            r.get_or_insert_with(|| "destroyed on request".into());
        }
    }

    /// A debug hook to exercise the fallback for a kernel that does not
    /// compile: every later shader gets a syntax error appended, so the
    /// driver's real compile error travels the real path.
    pub fn force_shader_errors(&self) {
        self.broken_shaders.store(true, Ordering::SeqCst);
    }

    /// Waits until the work submitted so far has run: natively by polling the
    /// device, on the web by awaiting the queue (never blocking the page).
    pub async fn finish(&self) -> Result<(), GpuError> {
        self.check_alive()?;
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::ReadBack(e.to_string()))?;
        #[cfg(target_arch = "wasm32")]
        {
            let (tx, rx) = futures_channel::oneshot::channel();
            self.queue.on_submitted_work_done(move || {
                let _ = tx.send(());
            });
            rx.await.map_err(|_| {
                GpuError::ReadBack("the queue dropped its work-done callback".into())
            })?;
        }
        self.check_alive()
    }

    /// Compiles a WGSL module into a compute pipeline, reporting (not panicking on) errors.
    pub async fn compute_pipeline(
        &self,
        label: &str,
        wgsl: &str,
        entry_point: &str,
    ) -> Result<wgpu::ComputePipeline, GpuError> {
        self.check_alive()?;
        let broken;
        let wgsl = if self.broken_shaders.load(Ordering::SeqCst) {
            broken = format!("{wgsl}\n(this is not WGSL: broken on request)");
            broken.as_str()
        } else {
            wgsl
        };
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            });
        match scope.pop().await {
            None => Ok(pipeline),
            Some(e) => Err(GpuError::Pipeline(format!("{label}: {e}"))),
        }
    }

    /// A storage buffer of `bytes` bytes that kernels write and read-back copies from.
    pub fn storage_buffer(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A read-only storage buffer holding `data`.
    pub fn storage_buffer_init(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: data,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A bind group for group 0 of `pipeline`, each buffer bound whole at its binding number.
    pub fn bind_group(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        entries: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = entries
            .iter()
            .map(|(binding, buffer)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// A uniform buffer holding `data`.
    pub fn uniform_buffer<T: bytemuck::Pod>(&self, label: &str, data: &T) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(data),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// Copies the first `len` elements of `src` back to the host. Awaits the
    /// map on the web (never blocks the page); natively it polls the device.
    pub async fn read_back<T: bytemuck::Pod>(
        &self,
        src: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<T>, GpuError> {
        self.check_alive()?;
        let bytes = (len * std::mem::size_of::<T>()) as u64;
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("gradlab read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.copy_buffer_to_buffer(src, 0, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::ReadBack(e.to_string()))?;
        let mapped = rx
            .await
            .map_err(|_| GpuError::ReadBack("the map request was dropped".into()))?;
        if mapped.is_err() {
            self.check_alive()?;
            return Err(GpuError::ReadBack("buffer could not be mapped".into()));
        }
        let out = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| GpuError::ReadBack(e.to_string()))?;
            bytemuck::cast_slice::<u8, T>(&view).to_vec()
        };
        staging.unmap();
        Ok(out)
    }
}

/// Workgroup counts for `items` invocations of a 1D kernel with `workgroup_size`
/// lanes, folded into (x, y) so no dimension exceeds the 65,535 limit.
/// Kernels index as `gid.x + gid.y * num_workgroups.x * workgroup_size`.
pub fn dispatch_2d(items: u32, workgroup_size: u32) -> (u32, u32) {
    let groups = items.div_ceil(workgroup_size).max(1);
    let x = groups.min(32_768);
    (x, groups.div_ceil(x))
}

#[cfg(target_arch = "wasm32")]
async fn new_instance() -> Result<wgpu::Instance, GpuUnavailable> {
    let desc = wgpu::InstanceDescriptor {
        backends: wgpu::Backends::BROWSER_WEBGPU,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    };
    if !wgpu::util::is_browser_webgpu_supported().await {
        return Err(GpuUnavailable(
            "this browser does not expose WebGPU (navigator.gpu is missing or grants no adapter)"
                .into(),
        ));
    }
    Ok(wgpu::Instance::new(desc))
}

#[cfg(not(target_arch = "wasm32"))]
async fn new_instance() -> Result<wgpu::Instance, GpuUnavailable> {
    Ok(wgpu::Instance::new(
        wgpu::InstanceDescriptor::new_without_display_handle_from_env(),
    ))
}

#[cfg(target_arch = "wasm32")]
fn log_error(msg: &str) {
    web_sys::console::error_1(&msg.into());
}

#[cfg(not(target_arch = "wasm32"))]
fn log_error(msg: &str) {
    eprintln!("{msg}");
}
