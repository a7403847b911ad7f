//! Builds and runs the server: the writer thread, the release schedule and the HTTP app.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::configuration::Settings;
use crate::datadir::DataDir;
use crate::routes::{self, headers, render};
use crate::state::AppState;
use crate::store::file_times::FileClock;
use crate::store::writer::Writer;
use crate::store::StoreError;
use crate::{pool, templates};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("templates: {0}")]
    Templates(#[from] tera::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    pub settings: Settings,
}

impl Application {
    /// Binds the listener and prepares the app; `run` starts serving.
    pub fn build(mut settings: Settings, data: DataDir) -> Result<Application, StartupError> {
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let bound = listener.local_addr()?;
        settings.bind = bound;
        if !settings.public_url_set {
            settings.public_url = format!("http://{bound}");
        }
        let group = if settings.group_commit {
            crate::store::writer::GROUP
        } else {
            1
        };
        pool::record_schedule(&data.db.connect()?, &settings.pool)?;
        let clock = FileClock::new(&data.db.file()?, settings.pool);
        let (writer, _thread) = Writer::spawn(&data.db, group, settings.writer_queue, clock)?;
        let choices = crate::reference::Choices::load(&data.db.connect()?)?;
        let state = web::Data::new(AppState::new(
            settings.clone(),
            data.db,
            writer.clone(),
            data.card_hasher,
            templates::load()?,
            choices,
        )?);
        let pool_settings = settings.pool;
        actix_web::rt::spawn(pool::run(
            pool_settings,
            settings.retention_days,
            writer,
            state.desk_generation.clone(),
        ));

        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(routes::report::MAX_FORM_BYTES))
                .app_data(web::FormConfig::default().limit(16 * 1024))
                .wrap(headers::security_headers())
                .configure(routes::app_config)
                .default_service(web::to(not_found))
        })
        // Slow or oversized clients are cut off rather than held.
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(2))
        .keep_alive(Duration::from_secs(30))
        .shutdown_timeout(15)
        .listen(listener)?
        .run();
        Ok(Application { server, settings })
    }

    /// Serves until SIGTERM or SIGINT; in-flight requests finish first.
    pub async fn run(self) -> Result<(), StartupError> {
        Ok(self.server.await?)
    }
}

async fn not_found(state: web::Data<AppState>) -> actix_web::HttpResponse {
    render::message(
        &state.templates,
        actix_web::http::StatusCode::NOT_FOUND,
        "页面不存在",
        "没有这个页面。",
    )
}
